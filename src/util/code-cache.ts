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
 * is written anew once the code has run (saveCodeCache), through a file renamed into place; and
 * then the folder is pruned of entries whose bundle is gone (pruneCacheDir).
 * Anything that fails (no such folder, a read-only one, Windows) loads the bundle as require() would.
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does Node's own.
 */
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import vm from 'node:vm'
import { trace, tracing } from './trace.js'

interface Pending {
  script: vm.Script
  file: string
  header: string
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
  const header = entryHeader(file)
  let cachedData: Buffer | undefined
  let stale = false
  try {
    const data = readFileSync(entry)
    const end = data.indexOf(10)
    if (end > 0 && data.toString('utf8', 0, end) === header) cachedData = data.subarray(end + 1)
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
  if (!cachedData || script.cachedDataRejected) pending.push({ script, file: entry, header })
  // (Nothing require()s a bundle by its path, so it is not put in require's cache.)
  const module = { exports: {}, filename: file, id: file, loaded: false, require }
  ;(script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, require, module, file, dirname(file))
  module.loaded = true
  return module.exports
}

/** Writes the cache entries that were missing or rejected, with what has been compiled by now. */
export function saveCodeCache(): void {
  const written = pending.splice(0)
  for (const { script, file, header } of written) {
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`
    try {
      const fd = openSync(temp, 'wx', 0o600)
      try {
        writeSync(fd, `${header}\n`)
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
  if (written.length > 0) pruneCacheDir(dirname((written[0] as Pending).file))
}

/** How old a temp file must be before it counts as left by a process killed while writing. */
const LEFT_TEMP_MS = 60_000

/**
 * Removes the entries whose bundle is gone (a removed checkout, an npx install cleaned away, a
 * package copied to a temp folder by the tests) and the temp files of writers killed before their
 * rename. Run whenever an entry has been written, which is rare (a new build, a new install, a new
 * Node), so the folder keeps about one entry per bundle installed and Node version used, however
 * many have come and gone. An entry that names no bundle (an earlier format) goes too.
 */
function pruneCacheDir(dir: string): void {
  const head = Buffer.allocUnsafe(4096)
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const path = join(dir, name)
    try {
      if (name.endsWith('.bin')) {
        const fd = openSync(path, 'r')
        let read: number
        try {
          read = readSync(fd, head, 0, head.length, 0)
        } finally {
          closeSync(fd)
        }
        const line = head.subarray(0, read)
        const bundle = bundleOf(line.toString('utf8', 0, Math.max(0, line.indexOf(10))))
        if (bundle === undefined || !existsSync(bundle)) unlinkSync(path)
      } else if (/\.bin\.\d+\.\w+$/.test(name) && Date.now() - statSync(path).mtimeMs > LEFT_TEMP_MS) {
        unlinkSync(path)
      }
    } catch {
      // Gone meanwhile (another run pruning too), or not ours to judge.
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
 * An entry's first line: the bundle's file as it is now, and its path. V8 checks a cached entry
 * against the source's length only, so the file's inode, size and change time tell a rebuilt or
 * reinstalled bundle from the one the entry was made from (the change time moves on every write or
 * rename and cannot be set back; npm gives every file the same mtime); the path (as JSON: one line
 * whatever it holds) tells pruneCacheDir whether the bundle is still there.
 */
function entryHeader(file: string): string {
  const stat = statSync(file, { bigint: true })
  return `${stat.ino}-${stat.size}-${stat.ctimeNs} ${JSON.stringify(file)}`
}

/** The bundle an entry's first line names, if it names one. */
function bundleOf(header: string): string | undefined {
  try {
    const path: unknown = JSON.parse(header.slice(header.indexOf(' ') + 1))
    return typeof path === 'string' ? path : undefined
  } catch {
    return undefined
  }
}

/** FNV-1a of the bundle's path: one entry per installed copy of claimrun (node:crypto is not loaded this early). */
function hash(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}
