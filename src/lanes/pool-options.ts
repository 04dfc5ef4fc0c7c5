/**
 * What every pool thread is made with, shared by the pool (pool.ts) and by the threads `claimrun run`
 * starts before piscina has even loaded (first-threads.ts): piscina adopts such a thread only if it
 * was made exactly as piscina would make it. Imports nothing: the command's entry bundles it.
 *
 * A worker holds one test at a time (the plan is shared, not copied) and its garbage is short-lived
 * spawn bookkeeping, so small heaps suffice; they keep the runner small, and a smaller runner forks
 * its tests faster (fork copies the page tables of the whole process).
 */
export const POOL_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 } as const
