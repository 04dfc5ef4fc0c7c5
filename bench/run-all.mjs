// npm run bench: every benchmark side by side in one run; prints as it goes and writes
// bench/RESULTS.md (the environment, every target of issue 13 and before it met or missed, the
// tables) and bench/claims.svg. The claim-contention part is the same code as `claimrun bench`.
//   CLAIMRUN_BENCH_BASELINE=<older build's cli.js>   adds "before" rows, measured in the same run
//   CLAIMRUN_BENCH_NODES=<node>,<node>                 adds claimrun and the floor under those Nodes
//   --quick                                            fewer repetitions, smaller suites
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { claimsChart } from '../dist/src/bench/chart.js'
import { benchClaims } from './claims.mjs'
import { environment, loadNow } from './environment.mjs'
import { benchNodeSuites, benchPerTest } from './per-test.mjs'
import { resultsMarkdown } from './results-md.mjs'
import { benchCpuBound, benchIdle, benchMakespan, benchMemory, benchStartup } from './suites.mjs'
import { benchConstrained } from './constrained.mjs'
import { targets } from './targets.mjs'

const quick = process.argv.includes('--quick')
const started = Date.now()
const log = (line) => console.log(line)
const env = environment()
log(`claimrun benchmarks${quick ? ' (quick)' : ''}`)
for (const line of env.lines) log(`  ${line}`)

/** One benchmark, with how long it took (so the next run can be sized to the time there is). */
const sections = []
async function section(title, fn) {
  log(title)
  const t0 = Date.now()
  const result = await fn()
  sections.push(`${title.split(':')[0]} ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s; load average ${loadNow()})`)
  return result
}
const claims = await section('claim contention (the same code as `claimrun bench`)', () => benchClaims({ quick, log }))
const makespan = await section('makespan: uneven 20-test sleep suite on 3 workers', () => benchMakespan({ reps: quick ? 1 : 5, log }))
const constrained = await section('constrained: 30 uneven tests on 4 workers, 10 in one lock group (max 1), two of weight 3, one serial', () => benchConstrained({ reps: quick ? 1 : 5, log }))
const startup = await section("start-up: one trivial test against node -e ''", () => benchStartup({ reps: quick ? 5 : 11, log }))
const perTest = await section('per-test cost: the slope between 500 trivial sh tests and one, 3 at a time', () => benchPerTest({ count: 500, reps: quick ? 2 : 5, log }))
const nodeSuites = await section('whole runs: 500 node scripts, 500 node:test files', () => benchNodeSuites({ reps: 1, nodeTestReps: 1, log }))
const cpuBound = await section('CPU-bound suite: 6 Node files of mixed work, 3 workers', () => benchCpuBound({ reps: quick ? 1 : 3, log }))
const idle = await section('a sleeping suite: the runner\'s CPU while every test sleeps', () => benchIdle({ reps: quick ? 1 : 3, log }))
const memory = await section('memory', () => benchMemory({ bigSuite: quick ? 2000 : 10_000, reps: quick ? 1 : 3, log }))

env.loadEnd = loadNow()
let git = ''
try {
  git = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
} catch {
  // not a git checkout
}
const data = { quick, git, env, sections, seconds: (Date.now() - started) / 1000, claims, makespan, constrained, startup, perTest, nodeSuites, cpuBound, idle, memory }
data.targets = targets(data)
log(`  load average at the end: ${env.loadEnd}`)
for (const [t, m, ok] of data.targets) log(`  ${ok === null ? '     ' : ok ? 'met  ' : 'MISSED'} ${t}: ${m}`)
writeFileSync(new URL('./RESULTS.md', import.meta.url), resultsMarkdown(data) + (process.env.CLAIMRUN_BENCH_APPENDIX ?? ''))
writeFileSync(new URL('./claims.svg', import.meta.url), claimsChart(claims.rows, env.machine))
log(`wrote bench/RESULTS.md and bench/claims.svg in ${data.seconds.toFixed(0)} s`)
