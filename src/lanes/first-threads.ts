/**
 * The worker threads of `claimrun run`, started before the rest of the CLI (even piscina) has loaded,
 * and handed to the pool when piscina asks for its threads.
 *
 * A thread takes ~23 ms to boot here, and it is what the first test waits for: the main thread is
 * ready to hand out tasks well before. Started by piscina, a thread began only once the entry had
 * armed its guards and loaded piscina (~9 ms after Node's bootstrap); started here it begins ~2 ms
 * after it, and one trivial test runs ~5 ms sooner (73.4 -> 68.4 ms, medians of 41, interleaved).
 * With 3 threads on 2 cores their boots share the CPU whenever they start: no gain there.
 *
 * piscina makes its workers itself. Its bundle (scripts/bundle.mjs) gets a `Worker` that asks
 * `ADOPT` first: a thread started here is adopted if piscina asks for exactly what it was made as
 * (piscina's own worker script, the same options), else piscina makes its own. The command's entry
 * bundles this module (it must run before early.cjs loads), so it imports nothing of claimrun that
 * carries state: the hand-over goes through `ADOPT` alone.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { POOL_RESOURCE_LIMITS } from './pool-options.js'

/** What a prestarted pool's threads get as workerData: they count `booted` up once their module has loaded. */
export interface PrestartData {
  booted: Int32Array
}

/** The threads `claimrun run` starts first: how many, how many the pool may grow to, and their workerData. */
export interface FirstThreads {
  threads: number
  max: number
  workerData: PrestartData
}

/** Where piscina's bundle looks for a thread made in advance (global: that bundle and this one are separate files). */
const ADOPT = Symbol.for('claimrun.adopt-first-thread')
type Adopt = (filename: string, options: WorkerOptions) => Worker | undefined

/** piscina's worker script in its bundle: what piscina starts each of its threads on. */
const PISCINA_WORKER = fileURLToPath(new URL('../../vendor/piscina/worker.js', import.meta.url))

/** Started here and not yet taken by piscina. */
let waiting: Worker[] = []

/**
 * Starts `threads` worker threads as piscina would start them for the pool that prestart.ts makes
 * next (its worker script, workerData, the pool's resource limits), and offers them to it. Without
 * piscina's bundle (a tsc-only build) nothing starts here: piscina then starts its own threads.
 */
export function startFirstThreads(threads: number, max: number): FirstThreads {
  const workerData: PrestartData = { booted: new Int32Array(new SharedArrayBuffer(4)) }
  if (!existsSync(PISCINA_WORKER)) return { threads, max, workerData }
  // Key for key what piscina passes (its _addNewWorker): compared by adopt().
  const options: WorkerOptions = {
    env: undefined,
    argv: undefined,
    execArgv: undefined,
    resourceLimits: { ...POOL_RESOURCE_LIMITS },
    workerData,
    trackUnmanagedFds: true,
  }
  const made: Worker[] = []
  try {
    while (made.length < threads) made.push(new Worker(PISCINA_WORKER, options))
  } catch {
    // The system refused a thread (EAGAIN): none is kept, and the run starts its own (pool.ts says so if it cannot).
    for (const worker of made) void worker.terminate()
    return { threads, max, workerData }
  }
  waiting = made
  const adopt: Adopt = (filename, asked) => (filename === PISCINA_WORKER && sameOptions(asked, options) ? waiting.shift() : undefined)
  ;(globalThis as Record<symbol, unknown>)[ADOPT] = adopt
  return { threads, max, workerData }
}

/**
 * Called once the pool is made: nothing more is offered to piscina, and a thread it did not take
 * (its options differed: a newer piscina, say) ends. It never got piscina's first message, so it
 * loads nothing of ours and ending it is safe (unlike a pool thread loading the worker module; see
 * prestart.ts); it is ended once it runs, and keeps no process alive meanwhile.
 */
export function releaseFirstThreads(): number {
  delete (globalThis as Record<symbol, unknown>)[ADOPT]
  const left = waiting
  waiting = []
  for (const worker of left) {
    worker.unref()
    worker.once('online', () => void worker.terminate())
  }
  return left.length
}

/** Whether piscina asks for a worker made with these very options (workerData by identity, resource limits by value). */
function sameOptions(asked: WorkerOptions, made: WorkerOptions): boolean {
  const keys = new Set([...Object.keys(asked), ...Object.keys(made)] as Array<keyof WorkerOptions>)
  for (const key of keys) {
    if (asked[key] === made[key]) continue
    if (key !== 'resourceLimits') return false
    const [a, b] = [asked.resourceLimits ?? {}, made.resourceLimits ?? {}]
    const limits = new Set([...Object.keys(a), ...Object.keys(b)] as Array<keyof typeof a>)
    for (const limit of limits) if (a[limit] !== b[limit]) return false
  }
  return true
}
