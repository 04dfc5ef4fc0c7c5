/**
 * The pool of the worker threads started while the CLI is still loading. A thread takes about as long
 * to boot as the rest of claimrun takes to load (~25 ms each on an idle 2-core machine), so
 * `claimrun run` starts them first (lanes/first-threads.ts), this pool adopts them, and the run
 * takes the pool: the first tests start that much sooner, and every prestarted lane starts at the
 * same moment instead of one after another.
 *
 * Ending a thread while it is still loading the worker module (piscina require()s it, and Node 20's
 * require of an ES module is not safe to interrupt) aborts the whole process with a V8 fatal error:
 * that is what killed an earlier attempt by a signal on a usage error. So a prestarted thread is never
 * ended before it says it has booted: `exitSafely` waits (bounded) for that before exiting, and a pool
 * that does not fit the run, or that no run took, is destroyed only after it.
 */
import type { Piscina } from 'piscina'
import type { FirstThreads } from './first-threads.js'
import { createPool, type TestOnlyWorker } from './pool.js'
import { sleep } from '../util/time.js'

interface Early {
  pool: Piscina
  /** Threads started now; the pool grows on demand up to `max` when the run has more lanes. */
  threads: number
  max: number
  /** Int32 [0]: how many prestarted threads have loaded the worker module. */
  booted: Int32Array
}

let early: Early | undefined

/** Makes the pool of the threads started first (piscina adopts them: see first-threads.ts). */
export function prestart({ threads, max, workerData }: FirstThreads): void {
  try {
    early = { pool: createPool(threads, undefined, {}, { max, workerData }), threads, max, booted: workerData.booted }
  } catch {
    // The system refused a thread: the run makes its own pool, and says so if it cannot.
  }
}

/**
 * The pool for a run of `lanes` lanes: the prestarted one if it has room for every lane (threads
 * beyond `lanes`, when the plan found fewer tests than the guess, just idle: cheaper than booting a
 * pool anew), else a new one (the misfit is destroyed, once booted).
 */
export async function takePool(lanes: number, testOnly: TestOnlyWorker | undefined, env: Record<string, string> = {}): Promise<Piscina> {
  const e = early
  early = undefined
  const plain = !testOnly && Object.keys(env).length === 0
  if (e && plain && e.max >= lanes) {
    adopted.set(e.pool, e)
    return e.pool
  }
  if (e) {
    await whenBooted(e)
    await e.pool.destroy()
  }
  return createPool(lanes, testOnly, env)
}

const adopted = new WeakMap<Piscina, Early>()

/**
 * Ends a run's pool. A prestarted pool may hold threads the run never needed (fewer tests than
 * the guess) that are still loading the worker module: they are waited for first (see above).
 */
export async function endPool(pool: Piscina, { exitsAfter = false } = {}): Promise<void> {
  const e = adopted.get(pool)
  if (e) await whenBooted(e)
  // Idle threads (piscina unrefs them) keep no process alive, and the exit ends them, safely once booted.
  if (!exitsAfter) await pool.destroy()
}

/** A prestarted pool no run took (`--list`, nothing left to run…): ended, once booted, so the process can end. */
export async function releaseUnused(): Promise<void> {
  const e = early
  early = undefined
  if (!e) return
  await whenBooted(e)
  await e.pool.destroy()
}

const BOOT_WAIT_MS = 2000

/** Resolves once every prestarted thread has booted (or after BOOT_WAIT_MS: a thread that died booting never will). */
async function whenBooted(e: Early): Promise<void> {
  const deadline = Date.now() + BOOT_WAIT_MS
  while (Atomics.load(e.booted, 0) < e.threads && Date.now() < deadline) await sleep(2)
}

/** Ends the process; with threads still booting, first waits (at most 2 s) until they have loaded. */
export function exitSafely(code: number): never {
  const e = early
  if (e) {
    const deadline = Date.now() + BOOT_WAIT_MS
    for (let n = Atomics.load(e.booted, 0); n < e.threads && Date.now() < deadline; n = Atomics.load(e.booted, 0)) {
      Atomics.wait(e.booted, 0, n, deadline - Date.now())
    }
  }
  process.exit(code)
}
