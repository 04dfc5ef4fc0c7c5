// How the harness runs one command and what it reads back: wall time, CPU time of the whole process
// tree, and (for claimrun) where the wall time went according to its results.json.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The environment every tool gets. NODE_EXTRA_CA_CERTS is removed for all of them alike: on the
 * project's machine it adds ~45 ms to every node start, which would drown the runners' own costs.
 */
export const BENCH_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'))

export const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN)

/**
 * CPU time of a whole process tree. Preferred: bench/support/tree-usage.py (Linux, python3), a child
 * subreaper around the command, so every descendant is reaped there, detached helpers that outlive
 * the runner included, and getrusage(RUSAGE_CHILDREN) counts them all; it also reports the command's
 * own wall time and spawn instant, so its start (~20 ms of python) is in no figure. Fallback:
 * `bash -c '"$@"; times'`, which misses a process its parent did not wait for. Else no CPU figures.
 */
const TREE = fileURLToPath(new URL('./tree-usage.py', import.meta.url))
function cpuMethod() {
  const py = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' })
  // The resolved interpreter, not a version-manager shim that would add a shell to every run.
  const python = py.status === 0 ? py.stdout.trim() : null
  if (python && process.platform === 'linux' && spawnSync(python, ['-S', TREE, 'true'], { stdio: 'ignore' }).status === 0) {
    return { kind: 'subreaper', wrap: (cmd, args) => [python, ['-S', TREE, cmd, ...args]], text: '`bench/support/tree-usage.py` around each command: a child subreaper (prctl), so every descendant is reaped by it, detached helpers that outlive the runner included; user + system time from getrusage(RUSAGE_CHILDREN); wall time and spawn instant are the command\'s own (fork to exit), without the wrapper\'s start' }
  }
  if (spawnSync('bash', ['-c', 'times'], { stdio: 'ignore' }).status === 0) {
    return { kind: 'bash', wrap: (cmd, args) => ['bash', ['-c', '"$@"; s=$?; times >&2; exit $s', 'bench-cpu', cmd, ...args]], text: "`bash -c '\"$@\"; times'` around each command (no python3 subreaper here): user + system time of every descendant that was waited for; a detached process reaped by init is NOT counted; wall times include ~2 ms of bash" }
  }
  return { kind: 'none', wrap: (cmd, args) => [cmd, args], text: 'not measured (neither python3 nor bash here)' }
}
const CPU = cpuMethod()
export const CPU_METHOD = CPU.text
const TREE_LINE = /\n?bench-tree spawned_epoch_ms=([\d.]+) wall_ms=([\d.]+) tree_ms=([\d.]+) cpu_ms=([\d.]+) orphans_left=(\d)\n?$/
const TIMES = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\r?\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/
const minSec = (m, s) => (Number(m) * 60 + Number(s)) * 1000

/** Reads the wrapper's report off the end of stderr into the result. */
function withCpu(res) {
  if (CPU.kind === 'subreaper') {
    const m = TREE_LINE.exec(res.stderr)
    if (!m) return { ...res, cpuMs: NaN }
    if (m[5] !== '0') console.log(`  warning: a process of this run was still running 10 s after it exited; its CPU time is not counted`)
    return { ...res, stderr: res.stderr.slice(0, m.index), spawnedAt: Number(m[1]), ms: Number(m[2]), treeMs: Number(m[3]), cpuMs: Number(m[4]) }
  }
  const m = CPU.kind === 'bash' ? TIMES.exec(res.stderr) : null
  return { ...res, cpuMs: m ? minSec(m[5], m[6]) + minSec(m[7], m[8]) : NaN }
}

/**
 * Runs a command to its end (its 'close': exited and every holder of its stdout/stderr gone).
 * Resolves with wall ms, `spawnedAt` (Date.now(), the clock results.json's startedAt uses; the
 * harness's monotonic clock may drift from it over a long run), exit code, output, and with
 * `cpu: true` the CPU ms of the whole tree (see CPU_METHOD).
 */
export function timed(cmd, args, { cwd, input, cpu = false, env = {} } = {}) {
  const [file, argv] = cpu ? CPU.wrap(cmd, args) : [cmd, args]
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now()
    const t0 = process.hrtime.bigint()
    const child = spawn(file, argv, { cwd, env: { ...BENCH_ENV, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    if (input !== undefined) child.stdin.end(input)
    child.on('error', reject)
    child.on('close', (code) => {
      const res = { ms: Number(process.hrtime.bigint() - t0) / 1e6, spawnedAt, code, stdout, stderr, cpuMs: NaN }
      resolve(cpu ? withCpu(res) : res)
    })
  })
}

/**
 * Where a claimrun run's wall time went, from its results.json and the moment the harness spawned
 * it: process spawn → each worker's first test start (first and last of those, and their spread),
 * last test end → process gone. startedAt has ms resolution, so each figure is ±1 ms.
 */
export function phases(res, resultsFile) {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'))
  const runStart = Date.parse(r.startedAt)
  const firsts = new Map()
  for (const t of r.tests) if (t.startMs !== null && !(firsts.get(t.worker) <= t.startMs)) firsts.set(t.worker, t.startMs)
  const starts = [...firsts.values()].map((ms) => runStart + ms - res.spawnedAt)
  const ended = r.tests.filter((t) => t.endMs !== null)
  const lastEnd = Math.max(...ended.map((t) => t.endMs))
  return {
    firstStart: Math.min(...starts),
    lastFirstStart: Math.max(...starts),
    spread: Math.max(...starts) - Math.min(...starts),
    workersStarted: starts.length,
    afterLast: res.ms - (runStart + lastEnd - res.spawnedAt),
    inRun: lastEnd - Math.min(...ended.map((t) => t.startMs)),
    passed: r.counts?.passed,
  }
}

/** The median of each numeric field over a list of phases. */
export function medianPhases(list) {
  const keys = ['firstStart', 'lastFirstStart', 'spread', 'workersStarted', 'afterLast', 'inRun']
  return Object.fromEntries(keys.map((k) => [k, median(list.map((p) => p[k]))]))
}

export function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'claimrun-bench-'))
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Fails the benchmark with the command's own words, never with a figure from a broken run. */
export function mustPass(res, what) {
  if (res.code !== 0) throw new Error(`${what} exited ${res.code}: ${res.stderr.slice(-500)}`)
  return res
}
