// Fixed cost of a run: the uneven makespan suite against xargs, and start-up of one trivial test
// against `node -e ''`, with claimrun's own phases read from its results.json; peak memory.
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BENCH_ENV, median, medianPhases, mustPass, phases, scratch, timed } from './support/measure.mjs'
import { BASELINE, CLI, RSS, xargs } from './support/runners.mjs'

const FLOOR = fileURLToPath(new URL('./support/startup-floor.cjs', import.meta.url))
/** The makespan suite's row for the design floor (bench/support/startup-floor.cjs given the files). */
export const MAKESPAN_FLOOR = 'design floor, longest first'

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
    const shStarts = []
    for (let i = 0; i < 5; i++) shStarts.push((await timed('sh', ['-c', 'exit 0'])).ms)
    const start = median(shStarts)
    const longestFirst = names.map((n, i) => ({ n, ms: MAKESPAN_SLEEPS_MS[i] })).sort((a, b) => b.ms - a.ms).map((x) => x.n)
    const history = join(dir, 'history.json')
    const out = join(dir, 'out')
    const run = (cli, args) => () => timed(process.execPath, [cli, 'run', '--workers', '3', ...args, '--out', out, '.'], { cwd: dir })
    // Warm the history once (as a user's previous run would have).
    mustPass(await run(CLI, ['--history', history])(), 'claimrun (warming the history)')
    const configs = {
      'claimrun --order given': run(CLI, ['--order', 'given', '--no-history']),
      'claimrun --order smart (with history)': run(CLI, ['--history', history]),
      ...(BASELINE ? { 'claimrun before, --order smart (with history)': run(BASELINE, ['--history', history]) } : {}),
      'xargs -P3, name order': () => xargs(names, ['sh'], { cwd: dir }),
      'xargs -P3, longest first': () => xargs(longestFirst, ['sh'], { cwd: dir }),
      // The design's floor (no claimrun code): Node, 3 bare worker threads claiming the files longest
      // first, one Atomics.add each, and spawning each as claimrun forks a test; three files, exit.
      [MAKESPAN_FLOOR]: () => timed(process.execPath, [FLOOR, ...longestFirst], { cwd: dir, env: { FLOOR_THREADS: '3', FLOOR_OUT: out } }),
    }
    const rows = Object.keys(configs).map((name) => ({ name, runs: [], phases: [] }))
    // Interleaved, so a burst of load on this shared machine hits every configuration alike.
    for (let r = 0; r < reps; r++) {
      for (const [i, fn] of Object.values(configs).entries()) {
        const row = rows[i]
        const res = mustPass(await fn(), row.name)
        row.runs.push(res.ms)
        if (row.name.startsWith('claimrun')) row.phases.push(phases(res, join(out, 'results.json')))
      }
    }
    for (const row of rows) {
      row.ms = median(row.runs)
      if (row.phases.length) Object.assign(row, medianPhases(row.phases))
      log(`  makespan  ${row.name.padEnd(46)} ${row.ms.toFixed(0).padStart(6)} ms${row.phases.length ? ` (first test ${row.firstStart.toFixed(0)} ms after spawn, workers' first starts ${row.spread.toFixed(0)} ms apart, gone ${row.afterLast.toFixed(0)} ms after the last test)` : ''}`)
    }
    return { rows, reps, sum, longest, lowerBound, processStartMs: start, lowerBoundWithStarts: Math.max((sum + names.length * start) / 3, longest + start) }
  } finally {
    done()
  }
}

/**
 * `claimrun run` of one trivial test against `node -e ''`, interleaved: wall time unwrapped (the
 * figure the target is about), CPU of the tree from a second, wrapped run of each.
 */
export async function benchStartup({ reps = 11, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    writeFileSync(join(dir, 'test_one.sh'), 'exit 0\n')
    const out = join(dir, 'out')
    const one = (cli, cpu, env) => timed(process.execPath, [cli, 'run', '--no-history', '--out', out, 'test_one.sh'], { cwd: dir, cpu, env })
    // The design's floor (no claimrun code: Node, bare worker threads, a spawn from each, three files).
    const floor = (threads) => timed(process.execPath, [FLOOR], { cwd: dir, env: { FLOOR_THREADS: String(threads) } })
    const configs = [
      ['nodeE', () => timed(process.execPath, ['-e', ''])],
      ['nodeECpu', () => timed(process.execPath, ['-e', ''], { cpu: true })],
      ['one', () => one(CLI, false), true],
      ['oneCpu', () => one(CLI, true)],
      // Without Node's compile cache (Node 22.1+; Node 20 has none): a first run after a build, or NODE_DISABLE_COMPILE_CACHE=1.
      ['cold', () => one(CLI, false, { NODE_DISABLE_COMPILE_CACHE: '1' }), true],
      ['floor', () => floor(1)],
      ['floor3', () => floor(3)],
      ...(BASELINE ? [['before', () => one(BASELINE, false), true], ['beforeCpu', () => one(BASELINE, true)]] : []),
    ]
    const runs = Object.fromEntries(configs.map(([k]) => [k, []]))
    const ph = { one: [], cold: [], before: [] }
    for (let r = 0; r < reps; r++) {
      for (const [k, fn, withPhases] of configs) {
        const res = mustPass(await fn(), `start-up: ${k}`)
        runs[k].push(res)
        if (withPhases) ph[k].push(phases(res, join(out, 'results.json')))
      }
    }
    const wall = (k) => median(runs[k]?.map((r) => r.ms) ?? [])
    const cpu = (k) => median(runs[k]?.map((r) => r.cpuMs) ?? [])
    // The floor's spawns (epoch ms, printed by each thread) after the harness spawned it.
    const spawns = (r) => [...r.stdout.matchAll(/^spawned ([\d.]+)$/gm)].map((m) => Number(m[1]) - r.spawnedAt)
    const result = {
      reps,
      nodeE: { ms: wall('nodeE'), cpuMs: cpu('nodeECpu') },
      one: { ms: wall('one'), cpuMs: cpu('oneCpu'), ...medianPhases(ph.one) },
      cold: { ms: wall('cold'), ...medianPhases(ph.cold) },
      floor: { ms: wall('floor'), firstStart: median(runs.floor.map((r) => Math.max(...spawns(r)))) },
      floor3: { ms: wall('floor3'), lastFirstStart: median(runs.floor3.map((r) => Math.max(...spawns(r)))), firstStart: median(runs.floor3.map((r) => Math.min(...spawns(r)))) },
      before: BASELINE ? { ms: wall('before'), cpuMs: cpu('beforeCpu'), ...medianPhases(ph.before) } : null,
    }
    log(`  startup   node -e ''                 ${result.nodeE.ms.toFixed(0).padStart(6)} ms wall, ${result.nodeE.cpuMs.toFixed(0)} ms CPU`)
    log(`  startup   claimrun run (one test)    ${result.one.ms.toFixed(0).padStart(6)} ms wall, ${result.one.cpuMs.toFixed(0)} ms CPU (test started ${result.one.firstStart.toFixed(0)} ms after spawn, gone ${result.one.afterLast.toFixed(0)} ms after it ended)`)
    log(`  startup   claimrun, no code cache    ${result.cold.ms.toFixed(0).padStart(6)} ms wall (test started ${result.cold.firstStart.toFixed(0)} ms after spawn)`)
    log(`  startup   design floor, 1 thread     ${result.floor.ms.toFixed(0).padStart(6)} ms wall (sh spawned ${result.floor.firstStart.toFixed(0)} ms after spawn)`)
    log(`  startup   design floor, 3 threads    ${result.floor3.ms.toFixed(0).padStart(6)} ms wall (sh spawned ${result.floor3.firstStart.toFixed(0)}-${result.floor3.lastFirstStart.toFixed(0)} ms after spawn)`)
    if (result.before) log(`  startup   claimrun before (one test) ${result.before.ms.toFixed(0).padStart(6)} ms wall, ${result.before.cpuMs.toFixed(0)} ms CPU`)
    return result
  } finally {
    done()
  }
}

/** KiB (what the kernel reports) to MB, the unit of the target (10^6 bytes), and to MiB. */
export const kibToMB = (kib) => (kib * 1024) / 1e6
export const kibToMiB = (kib) => kib / 1024

/**
 * Peak RSS of the CLI process (main thread and workers; not its tests) on one test and on a big
 * suite: the median of `reps` runs of each (the big run's peak moves by ~10 MB from run to run with
 * when V8 collects, and with the machine's load: a slower run keeps a smaller young generation).
 */
export async function benchMemory({ bigSuite = 10_000, reps = 3, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    writeFileSync(join(dir, 'test_one.sh'), 'exit 0\n')
    mkdirSync(join(dir, 'big'))
    for (let i = 1; i <= bigSuite; i++) writeFileSync(join(dir, 'big', `test_${i}.sh`), 'exit 0\n')
    const out = join(dir, 'out')
    const peak = (r) => Number(/claimrun-bench-maxrss-kib=(\d+)/.exec(r.stderr)?.[1])
    const one = []
    const big = []
    for (let r = 0; r < reps; r++) {
      one.push(mustPass(await timed(process.execPath, ['--import', RSS, CLI, 'run', '--no-history', '--out', out, 'test_one.sh'], { cwd: dir }), 'peak RSS, one test'))
      big.push(mustPass(await timed(process.execPath, ['--import', RSS, CLI, 'run', '--no-history', '--order', 'given', '--out', out, 'big'], { cwd: dir, cpu: true }), `peak RSS, ${bigSuite} tests`))
    }
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))
    const oneKiB = median(one.map(peak))
    const bigKiBs = big.map(peak)
    const bigKiB = median(bigKiBs)
    const mb = (kib) => `${kibToMB(kib).toFixed(1)} MB (${kibToMiB(kib).toFixed(1)} MiB)`
    log(`  memory    peak RSS (median of ${reps}), 1 test ${mb(oneKiB)}; ${bigSuite} tests ${mb(bigKiB)}, runs ${bigKiBs.map((k) => kibToMB(k).toFixed(1)).join(' / ')} MB (${(median(big.map((r) => r.ms)) / 1000).toFixed(1)} s)`)
    return {
      reps,
      rssOneMB: kibToMB(oneKiB),
      rssOneMiB: kibToMiB(oneKiB),
      rssBigMB: kibToMB(bigKiB),
      rssBigMiB: kibToMiB(bigKiB),
      rssBigRunsMB: bigKiBs.map(kibToMB),
      bigSuite,
      bigMs: median(big.map((r) => r.ms)),
      bigCpuMs: median(big.map((r) => r.cpuMs)),
      bigPassed: results.counts.passed,
    }
  } finally {
    done()
  }
}

/**
 * A CPU-bound suite of long-ish Node test files doing mixed work (built-in modules loaded, objects
 * allocated, JSON and hashing), 3 workers on the machine's cores: the sum of the tests' own durations
 * (each file reports its own, from its process start to its end, under every runner alike) and the
 * makespan, against xargs -P3 on the same files in the same order. What would have caught a runner
 * that slows its tests down (by waking up, or by where and how it forks them) while they compute.
 */
export const CPU_SUITE_UNITS = [6, 3, 5, 2, 4, 3]

const cpuTest = (units) => `const crypto = require('node:crypto'), zlib = require('node:zlib'), util = require('node:util')
let keep = 0
for (let u = 0; u < ${units}; u++) {
  const rows = Array.from({ length: 120000 }, (_, i) => ({ i, s: 'row ' + i, l: [i, i + 1, i + 2] }))
  const blob = JSON.stringify(rows.slice(0, 30000))
  keep += JSON.parse(blob).length + crypto.createHash('sha256').update(blob).digest()[0]
  keep += zlib.deflateSync(blob).length + util.inspect(rows[u]).length
  rows.sort((a, b) => (a.s < b.s ? -1 : 1))
}
// Its own duration, from its process start (performance.now counts from it) to now.
require('node:fs').appendFileSync(process.env.BENCH_DURATIONS, performance.now() + ' ' + keep + '\\n')
`

export async function benchCpuBound({ reps = 3, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    const files = CPU_SUITE_UNITS.map((units, i) => {
      const name = `test_cpu_${i + 1}.js`
      writeFileSync(join(dir, name), cpuTest(units))
      return name
    })
    const durations = join(dir, 'durations')
    const own = () => readFileSync(durations, 'utf8').trim().split('\n').reduce((a, line) => a + Number(line.split(' ')[0]), 0)
    const out = join(dir, 'out')
    const cr = (cli, env = {}) => () => timed(process.execPath, [cli, 'run', '--workers', '3', '--order', 'given', '--no-history', '--out', out, ...files], { cwd: dir, env: { BENCH_DURATIONS: durations, ...env } })
    const configs = {
      claimrun: cr(CLI),
      'claimrun, forked by the spawner': cr(CLI, { CLAIMRUN_SPAWNER: 'always' }),
      ...(BASELINE ? { 'claimrun before': cr(BASELINE) } : {}),
      'xargs -P3 node': () => xargs(files, [process.execPath], { cwd: dir, env: { BENCH_DURATIONS: durations } }),
    }
    const rows = Object.keys(configs).map((name) => ({ name, sums: [], spans: [] }))
    for (let r = 0; r < reps; r++) {
      for (const [i, fn] of Object.values(configs).entries()) {
        writeFileSync(durations, '')
        const res = mustPass(await fn(), rows[i].name)
        rows[i].sums.push(own())
        rows[i].spans.push(res.ms)
      }
    }
    const x = rows.at(-1)
    for (const row of rows) {
      row.sum = median(row.sums)
      row.ms = median(row.spans)
      // Per repetition against xargs, then the median: the load on a shared machine moves both alike.
      row.sumRatio = median(row.sums.map((s, i) => s / x.sums[i]))
      row.msRatio = median(row.spans.map((s, i) => s / x.spans[i]))
      log(`  cpu-bound ${row.name.padEnd(34)} tests' own time ${row.sum.toFixed(0).padStart(6)} ms (${row.sumRatio.toFixed(3)}× xargs), makespan ${row.ms.toFixed(0).padStart(6)} ms (${row.msRatio.toFixed(3)}× xargs)`)
    }
    return { rows, reps, units: CPU_SUITE_UNITS }
  } finally {
    done()
  }
}

/** CPU time (ms) of every thread of a process, from /proc (ns precision); NaN once it is gone. */
function threadsCpuMs(pid) {
  let ns = 0
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'latin1').split(' ')[0])
  } catch {
    return NaN
  }
  return ns / 1e6
}

/** The run's watchdog (a waiting shell, or Node once booted): its arguments hold the runner's pid and token. */
function watchdogOf(runnerPid) {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').replaceAll('\0', ' ').includes(` ${runnerPid} ${runnerPid}-`)) return Number(name)
    } catch {
      // gone meanwhile
    }
  }
  return undefined
}

/**
 * The runner's CPU while every test it runs sleeps (6 tests of `sleep 2.5` on 3 workers): its main
 * thread and every worker thread, and its watchdog, from 0.8 s after the start (the start-up is over)
 * to 2.2 s, as % of one core. A runner that waits should sleep: target ≤ 0.5 %.
 */
export const IDLE_WINDOW_MS = [800, 2200]

export async function benchIdle({ reps = 3, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    for (let i = 1; i <= 6; i++) writeFileSync(join(dir, `test_${i}.sh`), 'sleep 2.5\n')
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
    const once = async (cli, env) => {
      const child = spawn(process.execPath, [cli, 'run', '--workers', '3', '--no-history', '--out', join(dir, 'out'), '.'], { cwd: dir, env: { ...BENCH_ENV, ...env }, stdio: 'ignore' })
      const exited = new Promise((r) => child.on('exit', r))
      const t0 = performance.now()
      await sleep(IDLE_WINDOW_MS[0])
      const watchdog = watchdogOf(child.pid)
      const a = [threadsCpuMs(child.pid), watchdog ? threadsCpuMs(watchdog) : 0]
      const t1 = performance.now()
      await sleep(IDLE_WINDOW_MS[1] - (t1 - t0))
      const b = [threadsCpuMs(child.pid), watchdog ? threadsCpuMs(watchdog) : 0]
      const span = performance.now() - t1
      if ((await exited) !== 0) throw new Error(`${cli}: the sleeping suite failed`)
      return { runner: ((b[0] - a[0]) / span) * 100, watchdog: ((b[1] - a[1]) / span) * 100 }
    }
    const configs = {
      claimrun: [CLI, {}],
      'claimrun, forked by the spawner': [CLI, { CLAIMRUN_SPAWNER: 'always' }],
      ...(BASELINE ? { 'claimrun before': [BASELINE, {}] } : {}),
    }
    const rows = Object.keys(configs).map((name) => ({ name, runner: [], watchdog: [] }))
    for (let r = 0; r < reps; r++) {
      for (const [i, [cli, env]] of Object.values(configs).entries()) {
        const res = await once(cli, env)
        rows[i].runner.push(res.runner)
        rows[i].watchdog.push(res.watchdog)
      }
    }
    for (const row of rows) {
      row.runnerPct = median(row.runner)
      row.watchdogPct = median(row.watchdog)
      log(`  idle      ${row.name.padEnd(34)} runner ${row.runnerPct.toFixed(3)} % of a core (every thread), watchdog ${row.watchdogPct.toFixed(3)} %`)
    }
    return { rows, reps }
  } finally {
    done()
  }
}
