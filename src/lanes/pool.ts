import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'

const WORKER_FILE = fileURLToPath(new URL('../../workers/worker.js', import.meta.url))

/** The pool the worker lanes run in: exactly one thread per lane, each running one long task. */
export function createPool(lanes: number, smallHeap = false, env: Record<string, string> = {}): Piscina {
  return new Piscina({
    filename: WORKER_FILE,
    minThreads: lanes,
    maxThreads: lanes,
    concurrentTasksPerWorker: 1,
    // --env: the worker's process.env, which every test it spawns inherits.
    ...(Object.keys(env).length ? { env: { ...process.env, ...env } } : {}),
    // Lanes never idle (each runs one long task); the largest delay a timer accepts.
    idleTimeout: 2 ** 31 - 1,
    // A worker holds one test at a time (the plan is shared, not copied) and its garbage is
    // short-lived spawn bookkeeping, so small heaps suffice; they keep the runner small, and a
    // smaller runner forks its tests faster (fork copies the page tables of the whole process).
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: smallHeap ? 32 : 64 },
  })
}
