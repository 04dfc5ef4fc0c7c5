/**
 * Build step after tsc: the big module graphs every `claimrun run` loads become bundled files, so
 * Node reads and compiles a few files instead of resolving and linking ~70 modules, and starts no
 * ES module loader (why, and what it buys on Node 24 and 20: docs/design/bundling.md).
 *
 * The package's `claimrun` command is CommonJS, in three files:
 *   dist/src/cli/bin.cjs     the entry (bin.ts): arms the guards, loads main.cjs
 *   dist/src/cli/early.cjs   what bin.cjs needs first and shares with main.cjs (the armed signals,
 *                            the trace switch): one copy of their state
 *   dist/src/cli/main.cjs    the CLI proper
 * The same as ES modules, for `node dist/src/cli/bin.js` (tsc's bin.js loads these):
 *   dist/src/cli/main.js     the CLI proper
 * The worker threads' module:
 *   dist/workers/worker.cjs  what piscina require()s in each thread (no ES module loader per thread)
 *   dist/workers/worker.js   the same as an ES module
 * The run's watchdog and spawner process:
 *   dist/src/watchdog/watchdog-process.cjs
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
 * Modules bin.js has loaded and set up before main.js loads (the armed signals): the bundle imports
 * those very files instead of holding copies with state of their own.
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

/** commander through require(): it is CommonJS, and importing it as an ES module adds its esm.mjs wrapper and Node's CommonJS export analysis. */
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
 * on every run, before its first test, and commander is 9 files to resolve; comlink's ES module
 * build, bundled, needs no require() of an ES module (not in every Node 20) and no UMD wrapper.
 * Their licenses go to dist/vendor/ (see the end of this file). Every other package stays
 * external, loaded as installed when (and if) a run needs it.
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
const EARLY = ['src/cli/guards.js', 'src/util/trace.js']

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
await bundle('src/cli/main.js', ['src/cli/guards.js'])
// What piscina loads in a thread.
await bundleCjs('workers/worker.js', 'workers/worker.cjs')
// The run's watchdog and spawner, a process of its own (watchdog/watchdog.ts starts this file when it
// is there): one CommonJS file boots on less CPU than its ES modules.
await bundleCjs('src/watchdog/watchdog-process.js', 'src/watchdog/watchdog-process.cjs')
await bundle('workers/worker.js')

/**
 * piscina for the `claimrun` command: its main module and its worker script each as one CommonJS
 * file, in dist/vendor/piscina/ (with its license): one file to read instead of 13 to resolve and
 * read, before the first worker thread can even be asked for, and every thread loads its worker
 * script as one file. The main bundle finds the worker script beside it (piscina resolves
 * `worker.js` from its own folder), and the folder's package.json makes both CommonJS, as in
 * piscina's own dist/. Built from the piscina that npm installed, unchanged; lanes/pool.ts falls
 * back to that installed copy when the bundle is absent.
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

for (const file of ['main.js', 'worker.js']) {
  await esbuild.build({
    entryPoints: [resolve(piscinaDir, file)],
    outfile: resolve(vendor, file),
    ...BUILD,
    // Its own modules bundled; @napi-rs/nice (optional, loaded only for a niceIncrement) stays a package.
    packages: undefined,
    external: ['@napi-rs/nice'],
    format: 'cjs',
  })
}
await writeFile(resolve(vendor, 'package.json'), '{ "type": "commonjs" }\n')
// The license of every package the bundles carry, in dist/vendor/<name>/ (piscina's beside its bundle).
for (const name of ['piscina', ...CARRIED]) {
  await mkdir(resolve(dist, 'vendor', name), { recursive: true })
  await copyFile(resolve(packageRoot(name), 'LICENSE'), resolve(dist, 'vendor', name, 'LICENSE'))
}
