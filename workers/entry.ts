/**
 * What piscina loads in each worker thread of the built package: the worker bundle (worker.cjs),
 * compiled with V8's code cache on Node 20 (see src/util/code-cache.ts). A cache entry that was
 * missing or stale is written when the thread's lane has ended, with all the code it ran.
 */
import { fileURLToPath } from 'node:url'
import { loadBundle, saveCodeCache } from '../src/util/code-cache.js'
import type work from './worker.js'

const worker = loadBundle(fileURLToPath(new URL('./worker.cjs', import.meta.url))) as { default: typeof work }

export default async function lane(task: Parameters<typeof work>[0]): ReturnType<typeof work> {
  const done = await worker.default(task)
  // Only from a lane that ran tests: its entry then holds the code a test's run compiles (a used
  // entry is never written again).
  if (done.ran > 0) saveCodeCache()
  return done
}
