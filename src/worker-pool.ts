import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'

const WORKER_FILE = fileURLToPath(new URL('../workers/worker.js', import.meta.url))

/**
 * The pool the worker lanes run in: one long-lived task per lane, so as many threads as lanes.
 * `threads` start at once; the pool adds one per lane task beyond them, up to `maxThreads`.
 */
export function createPool(threads: number, maxThreads: number, smallHeap = false): Piscina {
  return new Piscina({
    filename: WORKER_FILE,
    minThreads: threads,
    maxThreads,
    concurrentTasksPerWorker: 1,
    // Lanes never idle (each runs one long task); the largest delay a timer accepts.
    idleTimeout: 2 ** 31 - 1,
    // A worker holds one test at a time (the plan is shared, not copied) and its garbage is
    // short-lived spawn bookkeeping, so small heaps suffice; they keep the runner small, and a
    // smaller runner forks its tests faster (fork copies the page tables of the whole process).
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: smallHeap ? 32 : 64 },
  })
}
