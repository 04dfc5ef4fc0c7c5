/**
 * Build step after tsc: the big module graphs every `claimrun run` loads become bundled files, so
 * Node reads and compiles a few files instead of resolving and linking ~70 modules (the module
 * loaders' per-file work was a large part of claimrun's start-up; see bench/RESULTS.md).
 *
 * The package's `claimrun` command is CommonJS (no ES module loader to start: ~15 ms less before
 * the first test here), in three files, so that the worker threads can start before most of the
 * CLI is even compiled:
 *   dist/src/cli/bin.cjs     the entry (bin.ts): starts the threads, arms the guards, loads main.cjs
 *   dist/src/cli/early.cjs   what bin.cjs needs first and shares with main.cjs (the armed signals,
 *                            the prestarted pool): one copy of their state
 *   dist/src/cli/main.cjs    the CLI proper
 * The same as ES modules, for `node dist/src/cli/bin.js` (tsc's bin.js loads these):
 *   dist/src/cli/main.js     the CLI proper, loaded by bin.js once the worker threads are booting
 * The worker threads' module:
 *   dist/workers/entry.cjs   what piscina require()s in each thread (no ES module loader per thread):
 *                            loads worker.cjs through V8's code cache
 *   dist/workers/worker.cjs  the worker proper, CommonJS
 *   dist/workers/worker.js   the same as an ES module
 * The run's watchdog and spawner process:
 *   dist/src/lanes/watchdog-process.cjs
 * Each is bundled from tsc's own output (the CommonJS ones first, from tsc's files as they are); an
 * ES module bundle overwrites its entry; every other file in dist/ stays as tsc wrote it (the
 * library API, `claimrun bench`'s threads). The CommonJS bundles carry
 * commander and comlink inside (see CARRIED), and piscina gets a bundle of its own in dist/vendor/;
 * every other package stays external, loaded as installed. Not minified, and without source maps
 * (none ship): a stack trace shows the code as tsc wrote it, each part under a `// dist/src/...`
 * comment naming its file.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist')

/**
 * Keeps each module's own `import.meta.url`: paths built from it (the worker file, the report's
 * assets, the watchdog script, createRequire for lazily loaded packages) resolve as they do from
 * the module's file in dist/, wherever the bundle sits.
 */
function ownImportMetaUrl(outfile, format = 'esm') {
  // A CommonJS bundle has no import.meta: its own file's URL, from __filename.
  const base = format === 'cjs' ? 'require("node:url").pathToFileURL(__filename)' : 'import.meta.url'
  return {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8')
        const url = `new URL(${JSON.stringify(relative(dirname(outfile), args.path))}, ${base}).href`
        return { contents: text.replaceAll('import.meta.url', url), loader: 'js' }
      })
    },
  }
}

/**
 * Modules bin.js has loaded and set up before main.js loads (the armed signals, the prestarted
 * pool): the bundle imports those very files instead of holding copies with state of their own.
 */
function shared(outfile, files) {
  const paths = new Set(files.map((f) => resolve(dist, f)))
  return {
    name: 'shared-with-bin',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        const file = resolve(args.resolveDir, args.path)
        if (!paths.has(file)) return undefined
        const rel = relative(dirname(outfile), file)
        return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true }
      })
    },
  }
}

/**
 * commander through require(): it is CommonJS, and importing it as an ES module (its esm.mjs
 * wrapper, then Node's CommonJS export analysis) took ~15 ms here against ~6 ms for require().
 */
const commanderByRequire = {
  name: 'commander-by-require',
  setup(b) {
    b.onResolve({ filter: /^commander$/ }, () => ({ path: 'commander', namespace: 'commander-by-require' }))
    b.onLoad({ filter: /.*/, namespace: 'commander-by-require' }, () => ({
      contents: [
        "import { createRequire } from 'node:module'",
        "const commander = createRequire(import.meta.url)('commander')",
        'export const { Argument, Command, CommanderError, Help, InvalidArgumentError, Option } = commander',
      ].join('\n'),
      loader: 'js',
    }))
  },
}

/**
 * esbuild is a devDependency added after many checkouts were installed: without it the build leaves
 * tsc's output as it is (it works the same, only starts slower) and says so, instead of failing.
 */
const esbuild = await import('esbuild').catch(() => null)
if (!esbuild) {
  console.warn('scripts/bundle.mjs: esbuild is not installed (npm ci installs it): the CLI is left unbundled, so it starts slower')
  // The package's command still works: it loads tsc's bin.js.
  await writeFile(resolve(dist, 'src/cli/bin.cjs'), "#!/usr/bin/env node\nimport('./bin.js')\n")
  process.exit(0)
}

/** What every bundle here shares: Node 20 code, packages from node_modules left to be loaded as installed. */
const BUILD = { bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' }

async function bundle(entry, sharedFiles = []) {
  const file = resolve(dist, entry)
  await esbuild.build({
    entryPoints: [file],
    outfile: file,
    allowOverwrite: true,
    ...BUILD,
    format: 'esm',
    plugins: [shared(file, sharedFiles), commanderByRequire, ownImportMetaUrl(file)],
  })
}

/**
 * Packages the CommonJS bundles carry inside instead of loading them from node_modules: both load
 * on every run, before its first test. commander's 9 files took ~7 ms to resolve and load here
 * (~1 ms bundled); comlink's ES module build, bundled, needs no require() of an ES module (not in
 * every Node 20) and no UMD wrapper. Their licenses go to dist/vendor/ (see the end of this file).
 * Every other package stays external, loaded as installed when (and if) a run needs it.
 */
const CARRIED = ['commander', 'comlink']
const carryOnly = {
  name: 'carry-only',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true }
      const name = args.path.split('/')[0]
      return CARRIED.includes(name) ? undefined : { path: args.path, external: true }
    })
  },
}

/**
 * A CommonJS bundle of tsc's `entry`. `externals` maps files (relative to dist/) to the CommonJS
 * file (relative to the output) that provides them instead of a copy: how bin.cjs and main.cjs share
 * early.cjs, and how bin.cjs loads main.cjs.
 */
async function bundleCjs(entry, out, externals = {}, extra = {}) {
  const outfile = resolve(dist, out)
  const provided = new Map(Object.entries(externals).map(([file, by]) => [resolve(dist, file), by]))
  const provide = {
    name: 'provided-by',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        const by = provided.get(resolve(args.resolveDir, args.path))
        return by ? { path: by, external: true } : undefined
      })
    },
  }
  await esbuild.build({
    entryPoints: [resolve(dist, entry)],
    outfile,
    ...BUILD,
    packages: undefined,
    format: 'cjs',
    plugins: [provide, carryOnly, ownImportMetaUrl(outfile, 'cjs')],
    ...extra,
  })
}

/** What bin.cjs sets up before main.cjs loads, and main.cjs uses too. */
// (start-threads.js and what it imports are not among them: bin.cjs carries its own, so that the
// first threads start before early.cjs is even read; they hand over through a global, not a module.)
// errors.js: one ClaimrunError class for both, so that main.cjs knows one thrown by early.cjs's pool.
const EARLY = ['src/cli/guards.js', 'src/lanes/prestart.js', 'src/util/trace.js', 'src/util/import-module.js', 'src/util/code-cache.js', 'src/errors.js']

// From tsc's files as they are, so first: the package's `claimrun` command (see the top of this file).
await esbuild.build({
  stdin: { contents: EARLY.map((f) => `export * from './${f}'`).join('\n'), resolveDir: dist, loader: 'js' },
  outfile: resolve(dist, 'src/cli/early.cjs'),
  ...BUILD,
  format: 'cjs',
  plugins: [ownImportMetaUrl(resolve(dist, 'src/cli/early.cjs'), 'cjs')],
})
const early = Object.fromEntries(EARLY.map((f) => [f, './early.cjs']))
await bundleCjs('src/cli/main.js', 'src/cli/main.cjs', early)
// Its import() of main.cjs and early.cjs as require(): through import() they would start the ES module loader.
await bundleCjs('src/cli/bin.js', 'src/cli/bin.cjs', { ...early, 'src/cli/main.js': './main.cjs' }, { supported: { 'dynamic-import': false } })
await bundle('src/cli/main.js', ['src/cli/guards.js', 'src/lanes/prestart.js'])
await bundleCjs('workers/worker.js', 'workers/worker.cjs')
// What piscina loads in a thread: worker.cjs, through the code cache (workers/entry.ts).
await bundleCjs('workers/entry.js', 'workers/entry.cjs')
// The run's watchdog and spawner, a process of its own (lanes/watchdog.ts starts this file when it
// is there): as one CommonJS file it boots on ~41 ms of CPU here, against ~51 ms as ES modules.
await bundleCjs('src/lanes/watchdog-process.js', 'src/lanes/watchdog-process.cjs')

// main.cjs and worker.cjs are compiled through V8's code cache (src/util/code-cache.ts), where an
// import() of their own would fail on Node 20: theirs go through src/util/import-module.ts.
for (const file of ['src/cli/main.cjs', 'workers/worker.cjs']) {
  const text = await readFile(resolve(dist, file), 'utf8')
  const call = /(?<![\w$.])import\(/.exec(text)
  if (call) throw new Error(`scripts/bundle.mjs: dist/${file} calls import() (at ${JSON.stringify(text.slice(call.index - 60, call.index + 40))}): use importModule (src/util/import-module.ts)`)
}
await bundle('workers/worker.js')

/**
 * piscina for the `claimrun` command: its main module and its worker script each as one CommonJS
 * file, in dist/vendor/piscina/ (with its license). `require('piscina')` resolves and reads 13 files
 * (~11 ms here, before the first worker thread can even be asked for); the bundle loads in ~5 ms,
 * and every thread loads its worker script as one file. The main bundle finds the worker script
 * beside it (piscina resolves `worker.js` from its own folder), and the folder's package.json makes
 * both CommonJS, as in piscina's own dist/. Built from the piscina that npm installed, unchanged but
 * for node:assert (below); lanes/pool.ts falls back to that installed copy when the bundle is absent.
 */
const piscinaDir = dirname(createRequire(import.meta.url).resolve('piscina'))

/** The folder of an installed package (its exports may not include package.json). */
function packageRoot(name) {
  for (let dir = dirname(createRequire(import.meta.url).resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = resolve(dir, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === name) return dir
  }
  throw new Error(`scripts/bundle.mjs: cannot find the folder of ${name}`)
}
const vendor = resolve(dist, 'vendor/piscina')

/**
 * An esbuild plugin: wherever the bundle requires the built-in `name` (`node:name` or `name`), it
 * gets `contents` instead, a CommonJS module whose own require of `node:name` is the real one.
 */
function shimBuiltin(name, contents) {
  const namespace = `shim-${name}`
  return {
    name: namespace,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(node:)?${name}$`) }, (args) =>
        args.namespace === namespace ? { path: `node:${name}`, external: true } : { path: name, namespace },
      )
      b.onLoad({ filter: /.*/, namespace }, () => ({ contents, loader: 'js' }))
    },
  }
}

/**
 * piscina asserts its queue invariants with node:assert, which takes ~2 ms to load and is needed
 * only if one fails. Its bundle gets an assert that checks the plain call and notStrictEqual (all
 * piscina uses today) itself and loads the real module only to throw; any other method, should a
 * later piscina use one, is the real module's, loaded on first use.
 */
const LAZY_ASSERT = `
let real
const load = () => (real ??= require('node:assert'))
function assert(value, message) { if (!value) load()(value, message) }
assert.ok = assert
assert.notStrictEqual = (actual, expected, message) => { if (Object.is(actual, expected)) load().notStrictEqual(actual, expected, message) }
module.exports = new Proxy(assert, {
  get: (target, key) => (key in target || key === '__esModule' || typeof key === 'symbol' ? target[key] : load()[key]),
})
`
const lazyAssert = shimBuiltin('assert', LAZY_ASSERT)

/**
 * piscina makes its worker threads itself; `claimrun run` starts its threads before piscina has even
 * loaded (src/lanes/first-threads.ts). In the main bundle, piscina's `new Worker(file, options)` asks
 * that module first (through a global: it is in another file) for a thread it started with the same
 * file and options, and makes one only if there is none. Nothing else of node:worker_threads changes.
 */
const ADOPTING_WORKER_THREADS = `
const threads = require('node:worker_threads')
const ADOPT = Symbol.for('claimrun.adopt-first-thread')
function Worker(filename, options) {
  return globalThis[ADOPT]?.(filename, options) ?? new threads.Worker(filename, options)
}
module.exports = new Proxy(threads, { get: (target, key) => (key === 'Worker' ? Worker : target[key]) })
`
const adoptFirstThreads = shimBuiltin('worker_threads', ADOPTING_WORKER_THREADS)
for (const file of ['main.js', 'worker.js']) {
  await esbuild.build({
    entryPoints: [resolve(piscinaDir, file)],
    outfile: resolve(vendor, file),
    ...BUILD,
    // Its own modules bundled; @napi-rs/nice (optional, loaded only for a niceIncrement) stays a package.
    packages: undefined,
    external: ['@napi-rs/nice'],
    format: 'cjs',
    plugins: file === 'main.js' ? [lazyAssert, adoptFirstThreads] : [lazyAssert],
  })
}
// The adoption above is in the bundle, and every node:worker_threads piscina uses is the shim's
// (whose own require is the one left), or the first threads would boot beside piscina's own.
{
  const text = await readFile(resolve(vendor, 'main.js'), 'utf8')
  if (!text.includes('claimrun.adopt-first-thread') || text.split('require("node:worker_threads")').length !== 2) {
    throw new Error('scripts/bundle.mjs: dist/vendor/piscina/main.js does not adopt the first threads (see adoptFirstThreads)')
  }
}
await writeFile(resolve(vendor, 'package.json'), '{ "type": "commonjs" }\n')
// The license of every package the bundles carry, in dist/vendor/<name>/ (piscina's beside its bundle).
for (const name of ['piscina', ...CARRIED]) {
  await mkdir(resolve(dist, 'vendor', name), { recursive: true })
  await copyFile(resolve(packageRoot(name), 'LICENSE'), resolve(dist, 'vendor', name, 'LICENSE'))
}
