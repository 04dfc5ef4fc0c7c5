/**
 * Worker threads started while the CLI is still loading. A thread takes about as long to boot as the
 * rest of claimrun takes to load (~30 ms each on an idle 2-core machine), so `claimrun run` starts
 * them first (cli/bin.ts) and the run adopts them: the first tests start that much sooner, and
 * every prestarted lane starts at the same moment instead of one after another.
 *
 * Exiting the process while a thread is still booting is what made an earlier attempt die by a
 * signal on a usage error; so nothing exits while a prestarted pool exists: `exitSafely` first waits
 * (bounded) until every prestarted thread has finished loading, then destroys nothing and exits.
 */
import type { Piscina } from 'piscina'
import { createPool, type TestOnlyWorker } from './pool.js'

interface Early {
  pool: Piscina
  /** Threads started now; the pool grows on demand up to `max` when the run has more lanes. */
  threads: number
  max: number
  /** Int32 [0]: how many prestarted threads have loaded the worker module. */
  booted: Int32Array
}

let early: Early | undefined

export function prestart(threads: number, max: number): void {
  const booted = new Int32Array(new SharedArrayBuffer(4))
  early = { pool: createPool(threads, undefined, {}, { max, booted }), threads, max, booted }
}

/**
 * The pool for a run of `lanes` lanes: the prestarted one if it fits (never more threads than lanes,
 * room for every lane), else a new one (the misfit is destroyed).
 */
export async function takePool(lanes: number, testOnly: TestOnlyWorker | undefined, env: Record<string, string> = {}): Promise<Piscina> {
  const e = early
  early = undefined
  const plain = !testOnly && Object.keys(env).length === 0
  if (e && plain && e.threads <= lanes && e.max >= lanes) return e.pool
  if (e) await e.pool.destroy()
  return createPool(lanes, testOnly, env)
}

/** Ends the process; with threads still booting, first waits (at most 2 s) until they have loaded. */
export function exitSafely(code: number): never {
  const e = early
  if (e) {
    const deadline = Date.now() + 2000
    for (let n = Atomics.load(e.booted, 0); n < e.threads && Date.now() < deadline; n = Atomics.load(e.booted, 0)) {
      Atomics.wait(e.booted, 0, n, deadline - Date.now())
    }
  }
  process.exit(code)
}
