/**
 * Imported first by bin.ts: for `claimrun run`, the worker threads start booting here, before the
 * rest of the command loads (see lanes/first-threads.ts). Its arguments say how many (see
 * prestart-args.ts); anything unusual starts none, and the run starts its threads itself.
 *
 * The stop signals are held from here until bin.ts has armed the run's own handlers (guards.ts,
 * not imported here: it is in early.cjs, which must not be read before the threads start).
 * Starting a thread takes this thread ~1 ms alone, and many times that once the threads already
 * started take the CPU (64 took 0.3-0.5 s on 2 cores): a Ctrl-C then must still stop the run with
 * its results, not kill it with Node's default.
 */
import { startFirstThreads, type FirstThreads } from '../lanes/first-threads.js'
import { prestartLanes } from './prestart-args.js'

/** guards.ts's STOP_SIGNALS. */
const HELD = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
const held: NodeJS.Signals[] = []
const hold = (signal: NodeJS.Signals): number => held.push(signal)
if (process.argv[2] === 'run') for (const signal of HELD) process.on(signal, hold)

const lanes = prestartLanes(process.argv.slice(2), process.cwd())

/** The threads started for this command, null for none. */
export const firstThreads: FirstThreads | null = lanes ? startFirstThreads(lanes.threads, lanes.max) : null

/**
 * Called once the stop signals are armed: stops holding them, and hands over any that came
 * meanwhile. (Node runs a signal's listeners only between tasks, and everything from here to
 * the arming is one task, so in practice none has; what this hold does is keep Node's default
 * effect away until then.)
 */
export function releaseSignals(): void {
  for (const signal of HELD) process.off(signal, hold)
  for (const signal of held.splice(0)) process.emit(signal, signal)
}
