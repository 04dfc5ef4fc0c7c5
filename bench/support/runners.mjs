// The commands the benchmarks compare, and the optional extra builds and Node binaries they compare
// against (from the environment, checked once here so a typo fails in the first second, not after
// minutes of benchmarks).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BENCH_ENV, timed } from './measure.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
/** The CLI as the package ships it (its `bin`), so a bundled or moved entry is what gets measured. */
export const CLI = join(ROOT, PKG.bin.claimrun)
export const RSS = join(ROOT, 'bench/support/report-rss.mjs')
export const FLOOR = join(ROOT, 'bench/support/spawn-floor.mjs')

function usage(line) {
  console.error(`bench: ${line}`)
  process.exit(2)
}

/**
 * CLAIMRUN_BENCH_BASELINE=/path/to/an/older/dist/src/cli.js adds that build's rows ("claimrun before")
 * to the same run, for a before/after table measured side by side.
 */
export const BASELINE = process.env.CLAIMRUN_BENCH_BASELINE || null
if (BASELINE && !existsSync(BASELINE)) usage(`CLAIMRUN_BENCH_BASELINE=${BASELINE} does not exist; give the path of an older build's CLI (e.g. /tmp/b13/base/dist/src/cli.js)`)

function nodeVersion(bin) {
  const r = spawnSync(bin, ['-p', 'process.version + " (libuv " + process.versions.uv + ")"'], { env: BENCH_ENV, encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

/** This Node, and what CLAIMRUN_BENCH_NODES=/path/node22,/path/node24 adds (each must run). */
export const THIS_NODE = { bin: process.execPath, version: nodeVersion(process.execPath) ?? process.version }
export const EXTRA_NODES = (process.env.CLAIMRUN_BENCH_NODES ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((bin) => {
    const version = nodeVersion(bin)
    if (!version) usage(`CLAIMRUN_BENCH_NODES: ${bin} does not run as node; give comma-separated paths of node binaries (e.g. /tmp/nodes/22/package/bin/node)`)
    return { bin, version }
  })

const runArgs = (out, target, workers = 3) => ['run', '--workers', String(workers), '--no-history', '--order', 'given', '--out', out, target]

/** claimrun (or the baseline build, or under another Node) on a folder of tests, 3 workers, given order. */
export const claimrun = ({ node = process.execPath, cli = CLI } = {}) => (out, target, opts) => timed(node, [cli, ...runArgs(out, target)], opts)
/** The Node floor: `main` (one thread, 3 async lanes) or `threads` (3 bare worker threads). */
export const floor = (mode, { node = process.execPath } = {}) => (files, command, opts) => timed(node, [FLOOR, mode, '3', command, ...files], opts)
export const xargs = (files, cmd, opts) => timed('xargs', ['-P', '3', '-n1', ...cmd], { ...opts, input: files.join('\n') + '\n' })
