// npm run bench: every benchmark side by side in one run; prints as it goes and writes
// bench/RESULTS.md (tables, ratios against the targets, machine, date) and bench/claims.svg.
// The claim-contention part is the same code as `claimrun bench` (dist/src/bench).
// CLAIMRUN_BENCH_BASELINE=<older dist/src/cli.js> adds that build's rows for a before/after table.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runBench } from '../dist/src/bench/bench.js'
import { claimsChart } from '../dist/src/bench/chart.js'
import { sharesText } from '../dist/src/bench/render.js'
import { STRATEGIES } from '../dist/src/bench/strategies.js'
import { BASELINE, benchMakespan, benchOverhead, benchStartup } from './suites.mjs'

const quick = process.argv.includes('--quick')
const started = Date.now()
const log = (line) => console.log(line)
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-')
const ratio = (a, b) => `${(a / b).toFixed(2)}×`
const verdict = (ok) => (ok === null ? '' : ok ? 'met' : '**missed**')

const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`
log(`claimrun benchmarks — ${machine}`)

/** A redis-server of our own on a free loopback port, for the Redis claim row (skipped without one). */
async function withRedis(fn) {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    log('  claims  redis: skipped (no redis-server on PATH)')
    return []
  }
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address()
      s.close(() => resolve(p))
    })
  })
  const dir = mkdtempSync(join(tmpdir(), 'claimrun-bench-redis-'))
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    await new Promise((resolve) => server.stdout.on('data', (d) => String(d).includes('Ready to accept') && resolve()))
    return await fn(`redis://127.0.0.1:${port}/0`)
  } finally {
    server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

const printRow = (r) => log(`  claims  ${r.strategy.padEnd(11)} ${String(r.threads).padStart(2)} threads  ${fmt(r.nsPerClaim, 1).padStart(9)} ns/claim  ${fmt(r.claimsPerSec / 1e6, 2).padStart(7)} M/s  duplicates ${r.duplicates}  shares ${sharesText(r.shares)}`)
log('claim contention (1,000,000 slots; message-based strategies 10,000 claims)')
const reps = quick ? 1 : 3
const claims = await runBench({ threads: [1, 2, 3, 4, 8], slots: 1_000_000, messageSlots: 10_000, reps, strategies: ['cursor', 'scan', 'naive', 'postmessage', 'comlink'], store: null }, printRow)
const redisSlots = quick ? 5000 : 20_000
claims.push(...(await withRedis((url) => runBench({ threads: [1, 2, 4, 8], slots: redisSlots, messageSlots: redisSlots, reps: 1, strategies: ['redis'], store: url }, printRow))))
log('makespan: uneven 20-test sleep suite on 3 workers')
const makespan = await benchMakespan({ reps: quick ? 1 : 5, log })
log('per-test overhead: 500 trivial tests on 3 workers')
const overhead = await benchOverhead({ count: 500, reps: quick ? 1 : 5, nodeReps: quick ? 1 : 2, log })
log('start-up and memory')
const startup = await benchStartup({ reps: quick ? 3 : 11, bigSuite: quick ? 2000 : 10_000, log })

const claim = (s, t) => claims.find((r) => r.strategy === s && r.threads === t)
const mrow = (name) => makespan.rows.find((r) => r.name === name)
const ms = (name) => mrow(name)?.ms ?? NaN
const ov = (suite, name) => overhead.rows.find((r) => r.suite === suite && r.name.startsWith(name))?.ms ?? NaN
const smartRow = mrow('claimrun --order smart (with history)')
const smart = smartRow.ms
const xLongest = ms('xargs -P3, longest first')
const shC = ov('sh', 'claimrun')
const shFloor = ov('sh', 'Node floor: one thread')
const shThreads = ov('sh', 'Node floor: 3 bare worker threads')
const shX = ov('sh', 'xargs')
const nodeC = ov('node', 'claimrun')
const nodeFloor = ov('node', 'Node floor: one thread')
const nodeX = ov('node', 'xargs')
const ntNode = ov('node:test', 'node --test')
const ntC = ov('node:test', 'claimrun')
const atomicDuplicates = claims.filter((r) => r.strategy !== 'naive').reduce((a, r) => a + r.duplicates, 0)
const spread = smartRow.lastFirstStart - smartRow.firstStart

const targets = [
  ['smart order with history ≤ 1.03 × xargs -P3 longest-first (makespan, whole command)', ratio(smart, xLongest), smart <= 1.03 * xLongest],
  ['smart order ≤ 1.05 × lower bound (with one process start per test)', ratio(smart, makespan.lowerBoundWithStarts), smart <= 1.05 * makespan.lowerBoundWithStarts],
  ["first test of every worker starts within ~2 × node -e '' of the process start (uneven suite, 3 workers)", `first ${fmt(smartRow.firstStart)} ms, last worker ${fmt(smartRow.lastFirstStart)} ms (${ratio(smartRow.lastFirstStart, startup.nodeEMs)})`, smartRow.lastFirstStart <= 2 * startup.nodeEMs],
  ['all workers start within a few ms of each other (≤ 5 ms)', `${fmt(spread, 1)} ms apart`, spread <= 5],
  ['exits promptly after the last outcome (≤ 20 ms)', `${fmt(smartRow.afterLast)} ms`, smartRow.afterLast <= 20],
  ['500 sh scripts: per-test time ≤ 1.2 × the Node floor (one thread, 3 async lanes)', ratio(shC, shFloor), shC <= 1.2 * shFloor],
  ['(reference) 500 sh scripts vs the floor of 3 bare worker threads spawning', ratio(shC, shThreads), null],
  ['500 sh scripts: ≤ 2 × xargs -P3', ratio(shC, shX), shC <= 2 * shX],
  ['500 node scripts: within 5% of xargs -P3', ratio(nodeC, nodeX), nodeC <= 1.05 * nodeX],
  ['(reference) 500 node scripts vs the Node floor', ratio(nodeC, nodeFloor), null],
  ['500 node scripts (claimrun) ≥ 1.3× faster than node --test --test-concurrency=3 on 500 node:test files', `${(ntNode / nodeC).toFixed(2)}× faster`, ntNode / nodeC >= 1.3],
  ['(reference) the same 500 node:test files through claimrun, vs node --test', `${ratio(ntC, ntNode)} its time`, null],
  ['claims ≥ 10 M/s on one thread (cursor)', `${fmt(claim('cursor', 1).claimsPerSec / 1e6, 1)} M/s`, claim('cursor', 1).claimsPerSec >= 1e7],
  ['zero duplicates for the atomic strategies (Redis included)', String(atomicDuplicates), atomicDuplicates === 0],
  ["start-up: claimrun run (one test) ≤ 3 × node -e ''", ratio(startup.oneTestMs, startup.nodeEMs), startup.oneTestMs <= 3 * startup.nodeEMs],
  [`peak RSS ≤ 150 MB on ${startup.bigSuite} tests`, `${fmt(startup.rssBigMiB, 1)} MiB`, startup.rssBigMiB <= 150],
]

let git = ''
try {
  git = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
} catch {
  // not a git checkout
}

const beforeRows = BASELINE
  ? (() => {
      const b = mrow('claimrun before, --order smart (with history)')
      const bSh = ov('sh', 'claimrun before')
      return `
## Before and after (same harness, same run, interleaved)

"Before" is the build at \`${BASELINE}\`; "after" is this commit.

| figure | before | after | target |
| --- | ---: | ---: | --- |
| uneven suite, smart order with history: wall ms (× xargs longest-first) | ${fmt(b.ms)} (${ratio(b.ms, xLongest)}) | ${fmt(smart)} (${ratio(smart, xLongest)}) | ≤ 1.03× |
| uneven suite: first test after process start, ms | ${fmt(b.firstStart)} | ${fmt(smartRow.firstStart)} | |
| uneven suite: last worker's first test after process start, ms | ${fmt(b.lastFirstStart)} | ${fmt(smartRow.lastFirstStart)} | ~2 × node -e '' = ${fmt(2 * startup.nodeEMs)} |
| uneven suite: process gone after the last test ended, ms | ${fmt(b.afterLast)} | ${fmt(smartRow.afterLast)} | |
| 500 sh tests: wall ms | ${fmt(bSh)} | ${fmt(shC)} | |
| 500 sh tests: × Node floor (${fmt(shFloor)} ms) | ${ratio(bSh, shFloor)} | ${ratio(shC, shFloor)} | ≤ 1.2× |
| 500 sh tests: × xargs -P3 (${fmt(shX)} ms) | ${ratio(bSh, shX)} | ${ratio(shC, shX)} | ≤ 2× |
| one trivial test: wall ms (× node -e '' = ${fmt(startup.nodeEMs)} ms) | ${fmt(startup.oneBeforeMs)} (${ratio(startup.oneBeforeMs, startup.nodeEMs)}) | ${fmt(startup.oneTestMs)} (${ratio(startup.oneTestMs, startup.nodeEMs)}) | ≤ 3× |
| one trivial test: test started after process start, ms | ${fmt(startup.oneBeforeFirstStartMs)} | ${fmt(startup.oneFirstStartMs)} | |
| one trivial test: process gone after the test ended, ms | ${fmt(startup.oneBeforeAfterLastMs)} | ${fmt(startup.oneAfterLastMs)} | |
`
    })()
  : ''

const md = `# claimrun benchmark results

Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}${git ? ` at commit ${git}` : ''}${quick ? ' (quick mode: fewer repetitions)' : ''}.

- Machine: ${machine}.
- Environment: every tool (claimrun, the Node floor, xargs, node --test) ran with this machine's environment minus
  \`NODE_EXTRA_CA_CERTS\`${process.env.NODE_EXTRA_CA_CERTS ? ' (set here: it adds ~45 ms to every `node` start)' : ' (not set here)'}; all tools alike.
- Figures are medians of the repetitions noted, run interleaved; ratios are taken side by side in this one run.
- Whole run took ${fmt((Date.now() - started) / 1000)} s.

## Targets

| target | measured | |
| --- | --- | --- |
${targets.map(([t, m, ok]) => `| ${t} | ${m} | ${verdict(ok)} |`).join('\n')}
${beforeRows}
## Claim contention

The same code as \`claimrun bench\`. 1,000,000 slots (the message-based strategies: 10,000 claims, since
each costs a round trip; Redis: ${redisSlots} claims through claimrun's Lua claim script on a local
redis-server, "threads" being concurrent clients, each with its own connection, in one Node process).
ns per claim is the wall time of the whole race divided by the claims (all threads together).
Duplicates: the most seen in any repetition; every slot was claimed at least once in every run.
Shares: each thread's share of the claims, in percent (the slot scan hands nearly everything to one thread).
Chart: [claims.svg](claims.svg).

| strategy | threads | ns per claim | claims per second | duplicates | shares % |
| --- | ---: | ---: | ---: | ---: | --- |
${claims.map((r) => `| ${STRATEGIES[r.strategy]} | ${r.threads} | ${fmt(r.nsPerClaim, 1)} | ${fmt(r.claimsPerSec)} | ${r.duplicates} | ${sharesText(r.shares)} |`).join('\n')}

## Makespan: uneven 20-test suite on 3 workers

Sleeps sum to ${fmt(makespan.sum / 1000, 2)} s, the longest is ${fmt(makespan.longest / 1000, 2)} s; lower bound
max(sum/3, longest) = ${fmt(makespan.lowerBound)} ms, or ${fmt(makespan.lowerBoundWithStarts)} ms counting one \`sh\` start
(${fmt(makespan.processStartMs, 1)} ms) per test. Wall time of the whole command, claimrun's own start-up included.
"First test" and "last worker's first": after the process was spawned; "exit": process gone after the last test ended.

| run | wall ms | vs lower bound | vs xargs longest-first | first test | last worker's first | exit after last | first start → last end |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${makespan.rows.map((r) => `| ${r.name} | ${fmt(r.ms)} | ${ratio(r.ms, makespan.lowerBound)} | ${ratio(r.ms, xLongest)} | ${r.phases.length ? `${fmt(r.firstStart)} ms` : ''} | ${r.phases.length ? `${fmt(r.lastFirstStart)} ms` : ''} | ${r.phases.length ? `${fmt(r.afterLast)} ms` : ''} | ${r.phases.length ? `${fmt(r.inRun)} ms` : ''} |`).join('\n')}

## Per-test overhead: ${overhead.count} trivial tests on 3 workers

The Node floor spawns the same files with the same options claimrun uses (\`detached\`, stdin ignored,
stdout and stderr piped), 3 at a time: from one thread on 3 async lanes, and from 3 bare worker threads
(claimrun's shape, without any of its work).

| suite | runner | wall ms | ms per test | × Node floor (one thread) | repetitions |
| --- | --- | ---: | ---: | ---: | ---: |
${overhead.rows.map((r) => `| ${r.suite} | ${r.name} | ${fmt(r.ms)} | ${fmt(r.perTestMs, 2)} | ${r.suite === 'sh' ? ratio(r.ms, shFloor) : r.suite === 'node' ? ratio(r.ms, nodeFloor) : ''} | ${r.reps} |`).join('\n')}

## Start-up and memory

| measure | value |
| --- | ---: |
| \`node -e ''\` (median of ${quick ? 3 : 11}) | ${fmt(startup.nodeEMs)} ms |
| \`claimrun run\` of one trivial test | ${fmt(startup.oneTestMs)} ms (${ratio(startup.oneTestMs, startup.nodeEMs)}) |
| its test started after the process start | ${fmt(startup.oneFirstStartMs)} ms |
| its process was gone after the test ended | ${fmt(startup.oneAfterLastMs)} ms |
| peak RSS, one test | ${fmt(startup.rssOneMiB, 1)} MiB |
| peak RSS, ${startup.bigSuite} trivial tests | ${fmt(startup.rssBigMiB, 1)} MiB (run took ${fmt(startup.bigMs / 1000, 1)} s, ${startup.bigPassed} passed) |
`
writeFileSync(new URL('./RESULTS.md', import.meta.url), md + (process.env.CLAIMRUN_BENCH_APPENDIX ?? ''))
writeFileSync(new URL('./claims.svg', import.meta.url), claimsChart(claims, machine))
log(`wrote bench/RESULTS.md and bench/claims.svg in ${fmt((Date.now() - started) / 1000)} s`)
