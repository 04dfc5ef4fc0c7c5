/** Wall-clock ms with sub-ms precision, comparable across threads (each has its own timeOrigin). */
// timeOrigin is read once: its getter cost more than the rest of now(), which runs several times per test.
const origin = performance.timeOrigin
export const now = (): number => origin + performance.now()

/** Milliseconds on CLOCK_MONOTONIC: comparable between processes on one machine, never stepped. */
export const monotonicMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Resolves once the event loop has polled for I/O at least once from now. A signal's listeners run
 * only then (Node reads signals like I/O), so one that came during synchronous work is handled by
 * the time this resolves. Two turns: called from an I/O callback, the first immediate runs before
 * the next poll.
 */
export const polledOnce = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)))
