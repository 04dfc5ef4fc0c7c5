// Every target (issue 13's and the earlier ones RESULTS.md keeps), as [target, measured, met?]:
// met is null for reference rows that have no target.
import { MAKESPAN_FLOOR } from './suites.mjs'

export const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-')
export const ratio = (a, b) => `${(a / b).toFixed(2)}×`

export function targets({ claims, makespan, constrained, startup, perTest, nodeSuites, cpuBound, idle, memory }) {
  const cRow = constrained?.rows.find((r) => r.name.startsWith('claimrun, constrained, smart order'))
  const mrow = (name) => makespan.rows.find((r) => r.name === name)
  const smart = mrow('claimrun --order smart (with history)')
  const xLongest = mrow('xargs -P3, longest first').ms
  const floorRow = mrow(MAKESPAN_FLOOR)
  const pt = (key) => perTest.rows.find((r) => r.key === key)
  const [c, fl, th, x] = ['claimrun', 'floor', 'threads', 'xargs'].map(pt)
  const nsRow = (suite, name) => nodeSuites.rows.find((r) => r.suite === suite && r.name.startsWith(name))
  const ns = (suite, name) => nsRow(suite, name)?.ms ?? NaN
  const nsCpu = (suite, name) => nsRow(suite, name)?.cpuMs ?? NaN
  const nodeC = ns('node', 'claimrun')
  const ntNode = ns('node:test', 'node --test')
  const cursor1 = claims.rows.find((r) => r.strategy === 'cursor' && r.threads === 1)
  const atomicDuplicates = claims.rows.filter((r) => r.strategy !== 'naive').reduce((a, r) => a + r.duplicates, 0)
  const nodeE = startup.nodeE.ms
  const extra = perTest.rows.filter((r) => r.claimrun && r.key.startsWith('claimrun ')).map((r) => {
    const f = pt(r.of)
    return [`(reference) per-test time on Node ${r.key.slice('claimrun '.length)}: claimrun vs that Node's floor (wall; CPU)`, `${ratio(r.slope, f.slope)}; ${ratio(r.cpuSlope, f.cpuSlope)}`, null]
  })
  const cb = cpuBound.rows[0]
  const cbBefore = cpuBound.rows.find((r) => r.name === 'claimrun before')
  const idleWorst = Math.max(...idle.rows.filter((r) => r.name !== 'claimrun before').map((r) => r.runnerPct + r.watchdogPct))
  const idleBefore = idle.rows.find((r) => r.name === 'claimrun before')
  return [
    ["CPU-bound suite: the sum of the tests' own durations ≤ 1.05 × under xargs -P3 (same files, same order; median of per-repetition ratios)", `${cb.sumRatio.toFixed(3)}×${cbBefore ? ` (before: ${cbBefore.sumRatio.toFixed(3)}×)` : ''}`, cb.sumRatio <= 1.05],
    ['CPU-bound suite: makespan ≤ 1.05 × xargs -P3', `${cb.msRatio.toFixed(3)}×${cbBefore ? ` (before: ${cbBefore.msRatio.toFixed(3)}×)` : ''}`, cb.msRatio <= 1.05],
    ['a runner whose tests all sleep uses ≤ 0.5 % of a core (every thread, and its watchdog; worst fork path)', `${idleWorst.toFixed(3)} %${idleBefore ? ` (before: ${(idleBefore.runnerPct + idleBefore.watchdogPct).toFixed(3)} %)` : ''}`, idleWorst <= 0.5],
    ...(cRow ? [
      ['constrained suite (a lock group, weights, a serial test), smart order with history ≤ 1.10 × its lower bound (max of work/workers, group work/max, longest + serial)', `${fmt(cRow.ms)} vs ${fmt(constrained.bound.bound)} ms = ${ratio(cRow.ms, constrained.bound.bound)} (${ratio(cRow.ms, constrained.withStarts.bound)} the bound with a process start per test); group overlaps ${Math.max(...cRow.overlaps)}`, cRow.ms <= 1.1 * constrained.bound.bound && Math.max(...cRow.overlaps) === 0],
    ] : []),
    ['makespan, smart order with history ≤ 1.03 × xargs -P3 longest-first (uneven suite, whole command)', ratio(smart.ms, xLongest), smart.ms <= 1.03 * xLongest],
    ...(floorRow ? [[`(reference) makespan of the design floor (Node, 3 bare worker threads claiming longest first, no claimrun code) vs xargs -P3 longest-first; claimrun vs that floor`, `${(floorRow.ms / xLongest).toFixed(3)}×; ${(smart.ms / floorRow.ms).toFixed(3)}×`, null]] : []),
    ['makespan, smart order ≤ 1.05 × lower bound (with one process start per test)', ratio(smart.ms, makespan.lowerBoundWithStarts), smart.ms <= 1.05 * makespan.lowerBoundWithStarts],
    ["first test of every worker starts within ~2 × node -e '' of the process spawn (uneven suite, 3 workers)", `last worker's first test at ${fmt(smart.lastFirstStart)} ms = ${ratio(smart.lastFirstStart, nodeE)} node -e (${fmt(nodeE)} ms)`, smart.lastFirstStart <= 2 * nodeE],
    ["the one-test run's test starts within ~2 × node -e '' of the process spawn", `${fmt(startup.one.firstStart)} ms = ${ratio(startup.one.firstStart, nodeE)}`, startup.one.firstStart <= 2 * nodeE],
    ["all workers' first tests start within a few ms of each other (≤ 5 ms, uneven suite)", `${fmt(smart.spread, 1)} ms apart`, smart.spread <= 5],
    ['process gone promptly after the last test ends (≤ 20 ms; uneven suite / one test)', `${fmt(smart.afterLast)} ms / ${fmt(startup.one.afterLast)} ms`, Math.max(smart.afterLast, startup.one.afterLast) <= 20],
    ["start-up: claimrun run of one trivial test ≤ 3 × node -e '' (wall)", `${fmt(startup.one.ms)} vs ${fmt(nodeE)} ms = ${ratio(startup.one.ms, nodeE)}`, startup.one.ms <= 3 * nodeE],
    ...(startup.floor ? [
      ["(reference) start-up against the design floor (Node, one bare worker thread, one sh spawn, three files)", `${fmt(startup.one.ms)} vs ${fmt(startup.floor.ms)} ms = ${ratio(startup.one.ms, startup.floor.ms)}; the floor is ${ratio(startup.floor.ms, nodeE)} node -e`, null],
      ["(reference) the floor's last of 3 threads spawns its sh (what \"every worker within ~2 × node -e\" asks of any design like this)", `${fmt(startup.floor3.lastFirstStart)} ms = ${ratio(startup.floor3.lastFirstStart, nodeE)} node -e`, null],
    ] : []),
    ["(reference) start-up in CPU time: claimrun one test vs node -e ''", `${fmt(startup.one.cpuMs)} vs ${fmt(startup.nodeE.cpuMs)} ms = ${ratio(startup.one.cpuMs, startup.nodeE.cpuMs)}`, null],
    [`per-test time (slope, ${perTest.count} vs ${perTest.few} sh tests) ≤ 1.2 × the Node floor (one thread, 3 async lanes), wall`, `${fmt(c.slope, 3)} vs ${fmt(fl.slope, 3)} ms = ${ratio(c.slope, fl.slope)}`, c.slope <= 1.2 * fl.slope],
    ['per-test time ≤ 1.2 × the Node floor, CPU time of the whole tree', `${fmt(c.cpuSlope, 3)} vs ${fmt(fl.cpuSlope, 3)} ms = ${ratio(c.cpuSlope, fl.cpuSlope)}`, c.cpuSlope <= 1.2 * fl.cpuSlope],
    ['(reference) per-test time vs the floor of 3 bare worker threads (wall; CPU)', `${ratio(c.slope, th.slope)}; ${ratio(c.cpuSlope, th.cpuSlope)}`, null],
    ['(reference) per-test time vs xargs -P3 (wall; CPU)', `${ratio(c.slope, x.slope)}; ${ratio(c.cpuSlope, x.cpuSlope)}`, null],
    ...extra,
    [`${perTest.count} sh tests, whole run ≤ 2 × xargs -P3 (wall)`, ratio(c.ms, x.ms), c.ms <= 2 * x.ms],
    ['500 node scripts, whole run within 5% of xargs -P3', ratio(nodeC, ns('node', 'xargs')), nodeC <= 1.05 * ns('node', 'xargs')],
    ['(reference) 500 node scripts, CPU time of the whole tree vs xargs -P3; vs the Node floor', `${ratio(nsCpu('node', 'claimrun'), nsCpu('node', 'xargs'))}; ${ratio(nsCpu('node', 'claimrun'), nsCpu('node', 'Node floor'))}`, null],
    ['(reference) 500 node scripts vs the Node floor (wall)', ratio(nodeC, ns('node', 'Node floor')), null],
    ['500 node scripts (claimrun) ≥ 1.3× faster than node --test --test-concurrency=3 on 500 node:test files', `${(ntNode / nodeC).toFixed(2)}× faster`, ntNode / nodeC >= 1.3],
    ['(reference) the same 500 node:test files through claimrun, vs node --test', `${ratio(ns('node:test', 'claimrun'), ntNode)} its time`, null],
    ['claims ≥ 10 M/s on one thread (cursor)', `${fmt(cursor1.claimsPerSec / 1e6, 1)} M/s`, cursor1.claimsPerSec >= 1e7],
    ['zero duplicates for the atomic strategies (Redis included)', String(atomicDuplicates), atomicDuplicates === 0],
    // MB as the target says (10^6 bytes; 150 MB = 143.1 MiB): the figure and the comparison in the same unit.
    [`peak RSS ≤ 150 MB on ${memory.bigSuite} tests (median of ${memory.reps} runs)`, `${fmt(memory.rssBigMB, 1)} MB (${fmt(memory.rssBigMiB, 1)} MiB)`, memory.rssBigMB <= 150],
  ]
}
