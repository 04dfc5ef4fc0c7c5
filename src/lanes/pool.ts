import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Piscina as PiscinaPool } from 'piscina'
import { ClaimrunError } from '../errors.js'
import { loadBundle } from '../util/code-cache.js'
import type { PrestartData } from './first-threads.js'
import { POOL_RESOURCE_LIMITS } from './pool-options.js'

/**
 * piscina, loaded by the first pool (not with this module: bin.ts arms its signals before that) with
 * require(): it is CommonJS, and importing it as an ES module costs ~7 ms more (Node's wrapper and
 * export analysis). The build's one-file bundle of the installed piscina (dist/vendor/piscina, see
 * scripts/bundle.mjs) loads in half the time of its 13 files; without it (a tsc-only build), the
 * installed package.
 */
let piscina: typeof import('piscina') | undefined
const PISCINA_BUNDLE = fileURLToPath(new URL('../../vendor/piscina/main.js', import.meta.url))
function loadPiscina(): typeof import('piscina') {
  // The bundle through V8's code cache, as the CLI's own (~1 ms less on Node 20).
  piscina ??= (existsSync(PISCINA_BUNDLE) ? loadBundle(PISCINA_BUNDLE) : createRequire(import.meta.url)('piscina')) as typeof import('piscina')
  return piscina
}

/**
 * The worker threads' module: the CommonJS entry the build makes (scripts/bundle.mjs), which loads
 * the worker bundle with V8's code cache (workers/entry.ts) and which a thread loads without
 * starting an ES module loader of its own (~4 ms of CPU per thread here); else the ES module (a
 * build without esbuild).
 */
const WORKER_CJS = fileURLToPath(new URL('../../workers/entry.cjs', import.meta.url))
const WORKER_FILE = existsSync(WORKER_CJS) ? WORKER_CJS : fileURLToPath(new URL('../../workers/worker.js', import.meta.url))

/**
 * The one test-only seam (as AVA's `_testOnlyReplaceWorkerPath`): the tests replace the worker
 * file with one of their own (test/support/dying-worker.mjs wraps the real one and dies on cue),
 * and hand it data through piscina's workerData. Nothing else in claimrun knows about it.
 */
export interface TestOnlyWorker {
  file: string
  data?: unknown
}

/**
 * The pool the worker lanes run in: one thread per lane, each running one long task. `lanes` threads
 * start now; a prestarted pool (see prestart.ts) may grow on demand up to `max`, and its threads count
 * `booted` up once they have loaded the worker module.
 */
export function createPool(lanes: number, testOnly?: TestOnlyWorker, env: Record<string, string> = {}, early?: { max: number; workerData: PrestartData }): PiscinaPool {
  try {
    return newPool(lanes, testOnly, env, early)
  } catch (err) {
    // piscina starts its threads in its constructor: a thread the system refuses (a pids-limited
    // container, ulimit -u) throws there, with Node's EAGAIN.
    if (!/EAGAIN/.test(String((err as Error)?.message))) throw err
    throw new ClaimrunError('CLAIMRUN_THREAD_LIMIT', `could not start ${lanes} worker thread${lanes === 1 ? '' : 's'}: the system refused a new thread (EAGAIN: the limit on processes and threads, ulimit -u or a container's pids limit, is reached); run with fewer --workers, or raise the limit`, { cause: err })
  }
}

function newPool(lanes: number, testOnly: TestOnlyWorker | undefined, env: Record<string, string>, early?: { max: number; workerData: PrestartData }): PiscinaPool {
  return new (loadPiscina().Piscina)({
    filename: testOnly?.file ?? WORKER_FILE,
    ...(testOnly ? { workerData: testOnly.data } : early ? { workerData: early.workerData } : {}),
    // --env: the worker's process.env, which every test it spawns inherits.
    ...(Object.keys(env).length ? { env: { ...process.env, ...env } } : {}),
    minThreads: lanes,
    maxThreads: early?.max ?? lanes,
    concurrentTasksPerWorker: 1,
    // Lanes never idle (each runs one long task); the largest delay a timer accepts.
    idleTimeout: 2 ** 31 - 1,
    resourceLimits: { ...POOL_RESOURCE_LIMITS },
  })
}
