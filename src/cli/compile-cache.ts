/**
 * Node 22.1 and later keep V8's compiled code of the modules a process loads: the next `claimrun`
 * skips compiling its bundles again. Imported first by bin.ts, so that it covers everything after
 * it. The cache goes into claimrun's own cache folder (util/code-cache.ts), which is checked to be
 * this user's and closed to everyone else: left to itself, Node uses <tmpdir>/node-compile-cache,
 * whoever made it, and would read bytecode another user put there. No such folder (or
 * NODE_DISABLE_COMPILE_CACHE=1): no cache. Node 20 has none of this (module.enableCompileCache is
 * absent there; util/code-cache.ts does it for the bundles).
 */
import * as nodeModule from 'node:module'
import { join } from 'node:path'
import { cacheDir } from '../util/code-cache.js'

const enable = (nodeModule as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache
const dir = typeof enable === 'function' ? cacheDir() : undefined
if (enable && dir) {
  try {
    enable(join(dir, 'node'))
  } catch {
    // An unwritable folder: Node then compiles as usual.
  }
}
