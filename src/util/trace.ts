import { writeSync } from 'node:fs'
import { threadId } from 'node:worker_threads'
import { monotonicMs } from './time.js'

/**
 * CLAIMRUN_TRACE=1: one line on stderr per phase of a run's start and end, with CLOCK_MONOTONIC ms
 * (the clock of process.hrtime in any process, so a harness that notes it at spawn can subtract;
 * see bench/support/trace-startup.mjs). Off, it costs one environment lookup per process.
 */
export const tracing = Boolean(process.env.CLAIMRUN_TRACE)

/** Per-test call sites check `tracing` first, so that no label is built when it is off. */
export const trace: (label: string) => void = tracing
  ? (label) => {
      try {
        writeSync(2, `claimrun-trace ${process.pid}/${threadId} ${monotonicMs().toFixed(2)} ${label}\n`)
      } catch {
        // stderr gone: nothing to trace to
      }
    }
  : () => {}

/** With CLAIMRUN_TRACE: Node's own start-up phases of this process (performance.nodeTiming), on the same clock. */
export function traceNodeTiming(): void {
  if (!tracing) return
  const origin = monotonicMs() - performance.now()
  // (Typed here: a DOM lib, as the tests' tsconfig has, types `performance` without Node's fields.)
  const t = (performance as unknown as { nodeTiming: Record<'nodeStart' | 'v8Start' | 'environment' | 'bootstrapComplete', number> }).nodeTiming
  for (const [label, at] of [['node: start', t.nodeStart], ['node: V8 started', t.v8Start], ['node: environment', t.environment], ['node: bootstrap complete', t.bootstrapComplete]] as const) {
    writeSync(2, `claimrun-trace ${process.pid}/${threadId} ${(origin + at).toFixed(2)} ${label}\n`)
  }
}
