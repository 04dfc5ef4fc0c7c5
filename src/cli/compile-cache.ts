/**
 * Node 22.1 and later keep V8's compiled code of the modules a process loads (module.enableCompileCache):
 * the next `claimrun` skips compiling its bundles again. Imported first by bin.ts, so that it covers
 * everything after it; Node 20 has no such thing, and nothing happens there.
 *
 * The cache goes into claimrun's own folder, checked to be this user's and closed to everyone else:
 * left to itself, Node uses <tmpdir>/node-compile-cache, whoever made it, and would run bytecode
 * another user put there. No such folder (or NODE_DISABLE_COMPILE_CACHE=1, as for Node's own): no cache.
 */
import { lstatSync, mkdirSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const enable = (nodeModule as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache
const dir = typeof enable === 'function' ? ownCacheDir() : undefined
if (enable && dir) {
  try {
    enable(join(dir, 'node'))
  } catch {
    // An unwritable folder: Node then compiles as usual.
  }
}

/** <tmpdir>/claimrun-code-cache-<uid>, made if need be: a real folder, this user's, closed to everyone else; or undefined. */
function ownCacheDir(): string | undefined {
  if (process.env.NODE_DISABLE_COMPILE_CACHE || typeof process.getuid !== 'function') return undefined
  const uid = process.getuid()
  const dir = join(tmpdir(), `claimrun-code-cache-${uid}`)
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch {
    // there already (checked below), or cannot be made
  }
  try {
    const stat = lstatSync(dir)
    return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0 ? dir : undefined
  } catch {
    return undefined
  }
}
