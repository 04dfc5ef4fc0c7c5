/**
 * Build step after tsc: the big module graphs every `claimrun run` loads become bundled files, so
 * Node reads and compiles a few files instead of resolving and linking ~70 modules (the module
 * loaders' per-file work was a large part of claimrun's start-up; see bench/RESULTS.md).
 *
 * The package's `claimrun` command is CommonJS (no ES module loader to start: ~15 ms less before
 * the first test here), in three files, so that the worker threads can start before most of the
 * CLI is even compiled:
 *   dist/src/cli/bin.cjs     the entry (bin.ts): arms the guards, prestarts the threads, loads main.cjs
 *   dist/src/cli/early.cjs   what bin.cjs needs first and shares with main.cjs (the armed signals,
 *                            the prestarted pool): one copy of their state
 *   dist/src/cli/main.cjs    the CLI proper
 * The same as ES modules, for `node dist/src/cli/bin.js` (tsc's bin.js loads these):
 *   dist/src/cli/main.js     the CLI proper, loaded by bin.js once the worker threads are booting
 * The worker threads' module:
 *   dist/workers/worker.cjs  CommonJS, which piscina require()s without an ES module loader per thread
 *   dist/workers/worker.js   the same as an ES module
 * Each is bundled from tsc's own output (the CommonJS ones first, from tsc's files as they are); an
 * ES module bundle overwrites its entry; every other file in dist/ stays as tsc wrote it (the
 * library API, `claimrun bench`'s threads, the watchdog script). Packages in node_modules stay
 * external: installed as dependencies and loaded as before. Not minified, and without source maps
 * (none ship): a stack trace shows the code as tsc wrote it, each part under a `// dist/src/...`
 * comment naming its file.
 */
import { readFile, writeFile } from 'node:fs/promises'
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
 * comlink's CommonJS (UMD) build for a CommonJS bundle: its ES module build, which the sources
 * import, would need require() of an ES module (not in every Node 20).
 */
const comlinkUmd = {
  name: 'comlink-umd',
  setup(b) {
    b.onResolve({ filter: /^comlink\/dist\/esm\/(comlink|node-adapter)\.mjs$/ }, (args) => ({ path: args.path.replace('/esm/', '/umd/').replace(/\.mjs$/, '.js'), external: true }))
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
    format: 'cjs',
    plugins: [provide, comlinkUmd, ownImportMetaUrl(outfile, 'cjs')],
    ...extra,
  })
}

/** What bin.cjs sets up before main.cjs loads, and main.cjs uses too. */
const EARLY = ['src/cli/guards.js', 'src/lanes/prestart.js', 'src/cli/prestart-args.js', 'src/util/trace.js']

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
await bundle('workers/worker.js')
