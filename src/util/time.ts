/** Wall-clock ms with sub-ms precision, comparable across threads (each has its own timeOrigin). */
// timeOrigin is read once: its getter cost more than the rest of now(), which runs several times per test.
const origin = performance.timeOrigin
export const now = (): number => origin + performance.now()

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
