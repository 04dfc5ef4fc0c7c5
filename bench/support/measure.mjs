// How the harness runs one command and what it reads back: wall time, CPU time of the whole process
// tree, and (for claimrun) where the wall time went according to its results.json.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The environment every tool gets. NODE_EXTRA_CA_CERTS is removed for all of them alike: on the
 * project's machine it adds ~45 ms to every node start, which would drown the runners' own costs.
 */
export const BENCH_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'))

export const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN)

/**
 * CPU time of a whole process tree: the command runs under `bash -c '"$@"; times'`, and the second
 * line of `times` is getrusage(RUSAGE_CHILDREN) of that bash, user + system, millisecond resolution:
 * every descendant that its parent waited for (the runner, its threads, every test it spawned and
 * reaped). A process that outlives its parent and is reaped by init instead (a detached helper left
 * running when the runner exits) is not counted. Without bash, CPU figures are NaN.
 */
const HAVE_BASH = spawnSync('bash', ['-c', 'times'], { stdio: 'ignore' }).status === 0
export const CPU_METHOD = HAVE_BASH
  ? "`bash -c '\"$@\"; times'` around each command: user + system time of every descendant that was waited for (getrusage RUSAGE_CHILDREN), ms resolution; a detached process reaped by init (not by its parent) is not counted"
  : 'not measured (no bash on PATH)'
const TIMES = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\r?\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/
const minSec = (m, s) => (Number(m) * 60 + Number(s)) * 1000

/**
 * Runs a command to its end (its 'close': exited and every holder of its stdout/stderr gone).
 * Resolves with wall ms, `spawnedAt` (Date.now(), the clock results.json's startedAt uses; the
 * harness's monotonic clock may drift from it over a long run), exit code, output, and with
 * `cpu: true` the CPU ms of the tree (the bash wrapper adds ~2 ms of wall to every tool alike).
 */
export function timed(cmd, args, { cwd, input, cpu = false } = {}) {
  const [file, argv] = cpu && HAVE_BASH ? ['bash', ['-c', '"$@"; s=$?; times >&2; exit $s', 'bench-cpu', cmd, ...args]] : [cmd, args]
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now()
    const t0 = process.hrtime.bigint()
    const child = spawn(file, argv, { cwd, env: BENCH_ENV, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    if (input !== undefined) child.stdin.end(input)
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      const m = cpu ? TIMES.exec(stderr) : null
      resolve({ ms, spawnedAt, code, stdout, stderr, cpuMs: m ? minSec(m[5], m[6]) + minSec(m[7], m[8]) : NaN })
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
