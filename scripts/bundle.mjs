/**
 * Build step after tsc: the two big module graphs every `claimrun run` loads become one bundled file
 * each, so Node resolves, reads and links one module instead of ~70 (the ES module loader's
 * per-file work was a large part of claimrun's start-up; see bench/RESULTS.md):
 *   dist/src/cli/main.js    the CLI proper, loaded by bin.js once the worker threads are booting
 *   dist/workers/worker.js  the worker threads' module (and worker.cjs, the same as CommonJS: see bundleCjs)
 * Each is bundled from tsc's own output and overwrites its entry; every other file in dist/ stays as
 * tsc wrote it (bin.js and what it loads before main.js, the library API, `claimrun bench`'s
 * threads, the watchdog script). Packages in node_modules stay external: installed as
 * dependencies and loaded as before. Not minified, and without source maps (none ship): a stack
 * trace shows the code as tsc wrote it, each part under a `// dist/src/...` comment naming its file.
 */
import { readFile } from 'node:fs/promises'
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
  process.exit(0)
}

async function bundle(entry, sharedFiles = []) {
  const file = resolve(dist, entry)
  await esbuild.build({
    entryPoints: [file],
    outfile: file,
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
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
 * The worker threads' module as CommonJS too (dist/workers/worker.cjs, which lanes/pool.ts prefers):
 * piscina require()s it, and an ES module would first start the ES module loader in every thread
 * (~4 ms of CPU each here). Made from tsc's output, before worker.js is bundled in place.
 */
async function bundleCjs(entry, out) {
  const outfile = resolve(dist, out)
  await esbuild.build({
    entryPoints: [resolve(dist, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    plugins: [comlinkUmd, ownImportMetaUrl(outfile, 'cjs')],
  })
}

await bundle('src/cli/main.js', ['src/cli/guards.js', 'src/lanes/prestart.js'])
await bundleCjs('workers/worker.js', 'workers/worker.cjs')
await bundle('workers/worker.js')
