// Whole-run benchmarks: claimrun's CLI against xargs -P3 and node --test on the same files,
// side by side in one run, in the same environment.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(ROOT, 'dist/src/cli/bin.js')
const RSS = join(ROOT, 'bench/support/report-rss.mjs')
const FLOOR = join(ROOT, 'bench/support/spawn-floor.mjs')

/**
 * The environment every tool gets. NODE_EXTRA_CA_CERTS is removed for all of them alike: here it
 * adds ~45 ms to every node start, which would drown the runners' own costs in certificate loading.
 */
export const BENCH_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'))

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Runs a command to its end; resolves with wall ms and output. */
export function timed(cmd, args, { cwd, input } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const spawnedAt = performance.timeOrigin + performance.now()
    const child = spawn(cmd, args, { cwd, env: BENCH_ENV, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    if (input !== undefined) child.stdin.end(input)
    child.on('error', reject)
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, spawnedAt, code, stdout, stderr }))
  })
}

const claimrun = (args, cwd) => timed(process.execPath, [CLI, 'run', ...args], { cwd })
/**
 * CLAIMRUN_BENCH_BASELINE=/path/to/an/older/dist/src/cli.js adds that build's rows ("claimrun before")
 * to the same run, for a before/after table measured side by side.
 */
export const BASELINE = process.env.CLAIMRUN_BENCH_BASELINE
const before = (args, cwd) => timed(process.execPath, [BASELINE, 'run', ...args], { cwd })
const floor = (mode, files, command, cwd) => timed(process.execPath, [FLOOR, mode, '3', command, ...files], { cwd })
const xargs = (files, cmd, cwd, p = 3) => timed('xargs', ['-P', String(p), '-n1', ...cmd], { cwd, input: files.join('\n') + '\n' })

/**
 * Where a claimrun run's wall time went, from its results.json and the time the harness spawned it:
 * process start → each worker's first test start, and last test end → process gone.
 */
export function phases(res, resultsFile) {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'))
  const runStart = Date.parse(r.startedAt)
  const firsts = new Map()
  for (const t of r.tests) if (t.startMs !== null && !(firsts.get(t.worker) <= t.startMs)) firsts.set(t.worker, t.startMs)
  const starts = [...firsts.values()].map((ms) => runStart + ms - res.spawnedAt)
  const lastEnd = runStart + Math.max(...r.tests.map((t) => t.endMs ?? 0)) - res.spawnedAt
  return { firstStart: Math.min(...starts), lastFirstStart: Math.max(...starts), afterLast: res.ms - lastEnd, inRun: Math.max(...r.tests.map((t) => t.endMs)) - Math.min(...r.tests.map((t) => t.startMs)) }
}

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'claimrun-bench-'))
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Uneven: most tests short, a few long ones late in name order (where name order hurts most). */
export const MAKESPAN_SLEEPS_MS = [250, 300, 200, 450, 350, 300, 400, 250, 500, 350, 300, 450, 400, 550, 600, 500, 350, 450, 700, 1300]

export async function benchMakespan({ reps = 3, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    const names = MAKESPAN_SLEEPS_MS.map((ms, i) => {
      const name = `test_${String(i + 1).padStart(2, '0')}.sh`
      writeFileSync(join(dir, name), `sleep ${ms / 1000}\n`)
      return name
    })
    const sum = MAKESPAN_SLEEPS_MS.reduce((a, b) => a + b, 0)
    const longest = Math.max(...MAKESPAN_SLEEPS_MS)
    const lowerBound = Math.max(sum / 3, longest)
    const start = median(await Promise.all([0, 1, 2, 3, 4].map(async () => (await timed('sh', ['-c', 'exit 0'])).ms)))
    const longestFirst = names.map((n, i) => ({ n, ms: MAKESPAN_SLEEPS_MS[i] })).sort((a, b) => b.ms - a.ms).map((x) => x.n)
    const history = join(dir, 'history.json')
    // Warm the history once (as a user's previous run would have).
    await claimrun(['--workers', '3', '--history', history, '--out', join(dir, 'out'), '.'], dir)
    const configs = {
      'claimrun --order given': () => claimrun(['--workers', '3', '--order', 'given', '--no-history', '--out', join(dir, 'out'), '.'], dir),
      'claimrun --order smart (with history)': () => claimrun(['--workers', '3', '--history', history, '--out', join(dir, 'out'), '.'], dir),
      ...(BASELINE ? { 'claimrun before, --order smart (with history)': () => before(['--workers', '3', '--history', history, '--out', join(dir, 'out'), '.'], dir) } : {}),
      'xargs -P3, name order': () => xargs(names, ['sh'], dir),
      'xargs -P3, longest first': () => xargs(longestFirst, ['sh'], dir),
    }
    const rows = []
    for (const name of Object.keys(configs)) {
      rows.push({ name, runs: [], phases: [] })
    }
    // Interleaved, so a burst of load on this shared machine hits every configuration alike.
    for (let r = 0; r < reps; r++) {
      for (const [name, fn] of Object.entries(configs)) {
        const row = rows.find((x) => x.name === name)
        const res = await fn()
        row.runs.push(res.ms)
        // claimrun's own phases: process start → first test of each worker, last test end → exit.
        if (name.startsWith('claimrun')) row.phases.push(phases(res, join(dir, 'out', 'results.json')))
      }
    }
    for (const row of rows) {
      row.ms = median(row.runs)
      if (row.phases.length) {
        for (const k of ['firstStart', 'lastFirstStart', 'afterLast', 'inRun']) row[k] = median(row.phases.map((p) => p[k]))
        row.inRunMs = row.inRun
      }
      log(`  makespan  ${row.name.padEnd(40)} ${row.ms.toFixed(0).padStart(6)} ms${row.phases.length ? ` (first test ${row.firstStart.toFixed(0)} ms after spawn, last worker's first ${row.lastFirstStart.toFixed(0)} ms, exit ${row.afterLast.toFixed(0)} ms after the last test)` : ''}`)
    }
    return { rows, sum, longest, lowerBound, processStartMs: start, lowerBoundWithStarts: Math.max((sum + names.length * start) / 3, longest + start) }
  } finally {
    done()
  }
}

export async function benchOverhead({ count = 500, reps = 3, nodeReps = 1, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    mkdirSync(join(dir, 'sh'))
    mkdirSync(join(dir, 'node'))
    mkdirSync(join(dir, 'nodetest'))
    const sh = []
    const node = []
    const nodetest = []
    for (let i = 1; i <= count; i++) {
      writeFileSync(join(dir, 'sh', `test_${i}.sh`), 'exit 0\n')
      writeFileSync(join(dir, 'node', `test_${i}.js`), '')
      writeFileSync(join(dir, 'nodetest', `t${i}.test.mjs`), "import test from 'node:test'\ntest('passes', () => {})\n")
      sh.push(`sh/test_${i}.sh`)
      node.push(`node/test_${i}.js`)
      nodetest.push(`nodetest/t${i}.test.mjs`)
    }
    const cr = (sub) => () => claimrun(['--workers', '3', '--no-history', '--order', 'given', '--out', join(dir, 'out'), sub], dir)
    const configs = [
      ['sh', 'claimrun', cr('sh'), reps],
      ...(BASELINE ? [['sh', 'claimrun before', () => before(['--workers', '3', '--no-history', '--order', 'given', '--out', join(dir, 'out'), 'sh'], dir), reps]] : []),
      ['sh', 'Node floor: one thread, 3 async lanes', () => floor('main', sh, 'sh', dir), reps],
      ['sh', 'Node floor: 3 bare worker threads', () => floor('threads', sh, 'sh', dir), reps],
      ['sh', 'xargs -P3 -n1 sh', () => xargs(sh, ['sh'], dir), reps],
      ['node', 'claimrun', cr('node'), nodeReps],
      ['node', 'Node floor: one thread, 3 async lanes', () => floor('main', node, process.execPath, dir), nodeReps],
      ['node', 'xargs -P3 -n1 node', () => xargs(node, [process.execPath], dir), nodeReps],
      ['node:test', 'node --test --test-concurrency=3', () => timed(process.execPath, ['--test', '--test-concurrency=3', '--test-reporter=dot', ...nodetest], { cwd: dir }), nodeReps],
      ['node:test', 'claimrun (same files)', cr('nodetest'), nodeReps],
    ]
    const rows = configs.map(([suite, name, , n]) => ({ suite, name, reps: n, runs: [] }))
    // Interleaved repetitions: each configuration of a suite sees the same moments of this shared machine.
    for (let r = 0; r < Math.max(reps, nodeReps); r++) {
      for (let i = 0; i < configs.length; i++) {
        const [suite, name, fn, n] = configs[i]
        if (r >= n) continue
        const res = await fn()
        if (res.code !== 0) throw new Error(`${name} on ${suite} exited ${res.code}: ${res.stderr.slice(-500)}`)
        rows[i].runs.push(res.ms)
      }
    }
    for (const row of rows) {
      row.ms = median(row.runs)
      row.perTestMs = row.ms / count
      log(`  overhead  ${row.suite.padEnd(10)} ${row.name.padEnd(40)} ${row.ms.toFixed(0).padStart(6)} ms  (${row.perTestMs.toFixed(2)} ms/test)`)
    }
    return { count, rows }
  } finally {
    done()
  }
}

export async function benchStartup({ reps = 11, bigSuite = 10_000, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    writeFileSync(join(dir, 'test_one.sh'), 'exit 0\n')
    const nodeE = []
    const one = []
    const onePhases = []
    const oneBefore = []
    const oneBeforePhases = []
    for (let r = 0; r < reps; r++) {
      nodeE.push((await timed(process.execPath, ['-e', ''])).ms)
      const res = await claimrun(['--no-history', '--out', join(dir, 'out'), 'test_one.sh'], dir)
      one.push(res.ms)
      onePhases.push(phases(res, join(dir, 'out', 'results.json')))
      if (BASELINE) {
        const b = await before(['--no-history', '--out', join(dir, 'out'), 'test_one.sh'], dir)
        oneBefore.push(b.ms)
        oneBeforePhases.push(phases(b, join(dir, 'out', 'results.json')))
      }
    }
    log(`  startup   node -e ''                 ${median(nodeE).toFixed(0).padStart(6)} ms`)
    log(`  startup   claimrun run (one test)    ${median(one).toFixed(0).padStart(6)} ms`)
    mkdirSync(join(dir, 'big'))
    for (let i = 1; i <= bigSuite; i++) writeFileSync(join(dir, 'big', `test_${i}.sh`), 'exit 0\n')
    const quiet = await timed(process.execPath, ['--import', RSS, CLI, 'run', '--no-history', '--out', join(dir, 'out'), 'test_one.sh'], { cwd: dir })
    const big = await timed(process.execPath, ['--import', RSS, CLI, 'run', '--no-history', '--order', 'given', '--out', join(dir, 'out'), 'big'], { cwd: dir })
    const rss = (r) => Number(/claimrun-bench-maxrss-kib=(\d+)/.exec(r.stderr)?.[1]) / 1024
    log(`  memory    peak RSS, 1 test ${rss(quiet).toFixed(1)} MiB; ${bigSuite} tests ${rss(big).toFixed(1)} MiB (${(big.ms / 1000).toFixed(1)} s)`)
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8'))
    const beforeFields = BASELINE ? { oneBeforeMs: median(oneBefore), oneBeforeFirstStartMs: median(oneBeforePhases.map((p) => p.firstStart)), oneBeforeAfterLastMs: median(oneBeforePhases.map((p) => p.afterLast)) } : {}
    return { ...beforeFields, nodeEMs: median(nodeE), oneTestMs: median(one), oneFirstStartMs: median(onePhases.map((p) => p.firstStart)), oneAfterLastMs: median(onePhases.map((p) => p.afterLast)), rssOneMiB: rss(quiet), rssBigMiB: rss(big), bigSuite, bigMs: big.ms, bigPassed: results.counts.passed }
  } finally {
    done()
  }
}
