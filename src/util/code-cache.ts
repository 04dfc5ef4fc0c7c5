/**
 * V8's code cache for the CommonJS bundles (dist/src/cli/main.cjs, dist/workers/worker.cjs, and
 * piscina's in dist/vendor) on Node 20 and 21. Node 22.1+ keeps compiled code for every module it
 * loads (module.enableCompileCache, see cli/compile-cache.ts); Node 20 has no such thing, so each
 * run compiled its bundles again:
 * main.cjs (~360 kB, commander inside) took ~20 ms to load and the functions the run then calls
 * more. With the cache, V8 deserializes the bytecode of every function the first run compiled.
 *
 * The cache lives in a folder of the system's temporary folder that only this user can enter
 * (checked, not assumed: a folder of that name made by someone else, or open to others, is not
 * used), as v8-compile-cache and Node's own cache do. V8 checks each entry against the source,
 * its own version and its flags, but of the source only its length: an entry also records the
 * bundle's file as it was (inode, size, change time), so that a bundle rebuilt or reinstalled in
 * place, even at the same length, never runs the old bytecode. A missing, stale or rejected entry
 * is written anew once the code has run (saveCodeCache), through a file renamed into place.
 * Anything that fails (no such folder, a read-only one, Windows) loads the bundle as require() would.
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does Node's own.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import vm from 'node:vm'
import { trace, tracing } from './trace.js'

interface Pending {
  script: vm.Script
  file: string
  stamp: string
}

/** Scripts whose cache entry was missing or rejected: written by saveCodeCache. */
const pending: Pending[] = []

/**
 * The module.exports of a CommonJS bundle, compiled with its cached code where there is one. The
 * bundle runs as require() would run it (same wrapper, same require, its own module object). On
 * Node 22.1+ it is simply require()d: Node's own cache covers it.
 */
export function loadBundle(file: string): unknown {
  const require = nodeModule.createRequire(file)
  if (typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function') return require(file)
  const dir = cacheDir()
  if (!dir) return require(file)
  // Named by the bundle's folder and file (cli-main.cjs, piscina-main.js), its path's hash, and Node's version.
  const name = `${basename(dirname(file))}-${basename(file)}`
  const entry = join(dir, `${name}-${hash(file)}-${process.version}-${process.arch}.bin`)
  // Taken before the source is read: a bundle changed after this point is stale for the next run.
  const stamp = fileStamp(file)
  let cachedData: Buffer | undefined
  let stale = false
  try {
    const data = readFileSync(entry)
    const end = data.indexOf(10)
    if (end > 0 && data.toString('latin1', 0, end) === stamp) cachedData = data.subarray(end + 1)
    else stale = true
  } catch {
    // none yet
  }
  const source = readFileSync(file, 'utf8').replace(/^#!.*/, '')
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    // No importModuleDynamically: Node 20 gives a vm.Script Node's module loader only as an
    // experimental feature. The bundles' import()s go through util/import-module.ts (checked by the build).
    ...(cachedData ? { cachedData } : {}),
  })
  if (tracing) trace(`code cache: ${name} ${stale ? 'stale' : !cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'used'}`)
  if (!cachedData || script.cachedDataRejected) pending.push({ script, file: entry, stamp })
  // (Nothing require()s a bundle by its path, so it is not put in require's cache.)
  const module = { exports: {}, filename: file, id: file, loaded: false, require }
  ;(script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, require, module, file, dirname(file))
  module.loaded = true
  return module.exports
}

/** Writes the cache entries that were missing or rejected, with what has been compiled by now. */
export function saveCodeCache(): void {
  for (const { script, file, stamp } of pending.splice(0)) {
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`
    try {
      const fd = openSync(temp, 'wx', 0o600)
      try {
        writeSync(fd, `${stamp}\n`)
        writeSync(fd, script.createCachedData())
      } finally {
        closeSync(fd)
      }
      renameSync(temp, file)
    } catch {
      // A full or read-only disk: the next run compiles again, as without a cache.
      rmSync(temp, { force: true })
    }
  }
}

/**
 * The cache folder, made if need be: a real folder, this user's, closed to everyone else; or
 * undefined. Node 22.1+ keeps its own compile cache in it too (cli/compile-cache.ts).
 */
export function cacheDir(): string | undefined {
  if (checkedDir === null) checkedDir = checkCacheDir()
  return checkedDir
}

/** This process's answer (each bundle it loads asks): null until asked. */
let checkedDir: string | undefined | null = null

function checkCacheDir(): string | undefined {
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

/**
 * The bundle's file as it is now: V8 checks a cached entry against the source's length only, so
 * this tells a rebuilt or reinstalled bundle from the one the entry was made from (the change time
 * moves on every write or rename and cannot be set back; npm gives every file the same mtime).
 */
function fileStamp(file: string): string {
  const stat = statSync(file, { bigint: true })
  return `${stat.ino}-${stat.size}-${stat.ctimeNs}`
}

/** FNV-1a of the bundle's path: one entry per installed copy of claimrun (node:crypto is not loaded this early). */
function hash(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}
