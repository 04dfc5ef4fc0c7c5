import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Piscina as PiscinaPool } from 'piscina'
import { ClaimrunError } from '../vocab/errors.js'
import type { TestOnlyWorker } from '../options/resolve.js'

/**
 * piscina, loaded by the first pool with require() (it is CommonJS): the build's one-file bundle of
 * the installed piscina (dist/vendor/piscina, see scripts/bundle.mjs and docs/design/bundling.md), or
 * without it (a tsc-only build) the installed package.
 */
let piscina: typeof import('piscina') | undefined
const PISCINA_BUNDLE = fileURLToPath(new URL('../../vendor/piscina/main.js', import.meta.url))
function loadPiscina(): typeof import('piscina') {
  const load = createRequire(import.meta.url)
  piscina ??= (existsSync(PISCINA_BUNDLE) ? load(PISCINA_BUNDLE) : load('piscina')) as typeof import('piscina')
  return piscina
}

/**
 * The worker threads' module: the CommonJS bundle the build makes (scripts/bundle.mjs), which a
 * thread loads without starting an ES module loader of its own; else the ES module (a build without esbuild).
 */
const WORKER_CJS = fileURLToPath(new URL('../../workers/worker.cjs', import.meta.url))
const WORKER_FILE = existsSync(WORKER_CJS) ? WORKER_CJS : fileURLToPath(new URL('../../workers/worker.js', import.meta.url))

/**
 * What every pool thread is made with. A worker holds one test at a time (the plan is
 * shared, not copied) and its garbage is short-lived spawn bookkeeping, so small heaps suffice;
 * they keep the runner small, and a smaller runner forks its tests faster (fork copies the page
 * tables of the whole process).
 */
const POOL_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 } as const

/** The pool the worker lanes run in: one thread per lane, each running one long task; every thread starts now. */
export function createPool(lanes: number, testOnly?: TestOnlyWorker, env: Record<string, string> = {}): PiscinaPool {
  try {
    return newPool(lanes, testOnly, env)
  } catch (err) {
    // piscina starts its threads in its constructor: a thread the system refuses (a pids-limited
    // container, ulimit -u) throws there, with Node's EAGAIN.
    if (!/EAGAIN/.test(String((err as Error)?.message))) throw err
    throw new ClaimrunError('CLAIMRUN_THREAD_LIMIT', `could not start ${lanes} worker thread${lanes === 1 ? '' : 's'}: the system refused a new thread (EAGAIN: the limit on processes and threads, ulimit -u or a container's pids limit, is reached); run with fewer --workers, or raise the limit`, { cause: err })
  }
}

function newPool(lanes: number, testOnly: TestOnlyWorker | undefined, env: Record<string, string>): PiscinaPool {
  return new (loadPiscina().Piscina)({
    filename: testOnly?.file ?? WORKER_FILE,
    ...(testOnly ? { workerData: testOnly.data } : {}),
    // --env: the worker's process.env, which every test it spawns inherits.
    ...(Object.keys(env).length ? { env: { ...process.env, ...env } } : {}),
    minThreads: lanes,
    maxThreads: lanes,
    concurrentTasksPerWorker: 1,
    // Lanes never idle (each runs one long task); the largest delay a timer accepts.
    idleTimeout: 2 ** 31 - 1,
    resourceLimits: { ...POOL_RESOURCE_LIMITS },
  })
}
