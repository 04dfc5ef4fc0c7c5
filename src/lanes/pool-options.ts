/**
 * What every pool thread is made with (pool.ts). A worker holds one test at a time (the plan is
 * shared, not copied) and its garbage is short-lived spawn bookkeeping, so small heaps suffice;
 * they keep the runner small, and a smaller runner forks its tests faster (fork copies the page
 * tables of the whole process).
 */
export const POOL_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 } as const
