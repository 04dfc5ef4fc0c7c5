// Cost per test, apart from the fixed cost of a run: every runner takes the same N trivial `sh`
// tests and the same 6, 3 at a time; its cost per test is the slope (T_N − T_6) / (N − 6), in wall
// time and in CPU time of its whole process tree. The small run pays every fixed cost the big one
// pays: claimrun boots only as many worker threads as a folder has tests (up to --workers), and its
// spawner only in a run with more tests than lanes, so against a one-test run those boots counted
// as per-test cost (~0.1 ms each per test at N = 500). Also the whole-run comparisons on node
// scripts and node:test files.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { median, mustPass, scratch, timed } from './support/measure.mjs'
import { BASELINE, claimrun, EXTRA_NODES, floor, THIS_NODE, xargs } from './support/runners.mjs'

/** The small run: two tests per lane (more tests than lanes, so claimrun's spawner boots in it too). */
const FEW = 6

function writeSuite(dir, sub, count, name, body) {
  mkdirSync(join(dir, sub))
  const files = []
  for (let i = 1; i <= count; i++) {
    writeFileSync(join(dir, sub, name(i)), body)
    files.push(`${sub}/${name(i)}`)
  }
  return files
}

/** Each runner the per-test table compares; `of` is the floor its ratio is taken against (same Node). */
function shRunners(dir) {
  const out = join(dir, 'out')
  const cr = (o) => (n) => claimrun(o)(out, n === FEW ? 'few' : 'sh', { cwd: dir, cpu: true })
  const fl = (mode, o) => (n, files) => floor(mode, o)(files, 'sh', { cwd: dir, cpu: true })
  const rows = [
    { key: 'claimrun', name: 'claimrun', run: cr(), claimrun: true, of: 'floor' },
    ...(BASELINE ? [{ key: 'before', name: 'claimrun before', run: cr({ cli: BASELINE }), claimrun: true, of: 'floor' }] : []),
    { key: 'floor', name: 'Node floor: one thread, 3 async lanes', run: fl('main'), of: 'floor' },
    { key: 'threads', name: 'Node floor: 3 bare worker threads', run: fl('threads'), of: 'floor' },
    { key: 'xargs', name: 'xargs -P3 -n1 sh', run: (n, files) => xargs(files, ['sh'], { cwd: dir, cpu: true }), of: 'floor' },
  ]
  for (const node of EXTRA_NODES) {
    rows.push({ key: `claimrun ${node.version}`, name: `claimrun on Node ${node.version}`, run: cr({ node: node.bin }), claimrun: true, of: `floor ${node.version}` })
    rows.push({ key: `floor ${node.version}`, name: `Node floor: one thread, on Node ${node.version}`, run: fl('main', { node: node.bin }), of: `floor ${node.version}` })
  }
  return rows
}

export async function benchPerTest({ count = 500, reps = 5, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    const many = writeSuite(dir, 'sh', count, (i) => `test_${i}.sh`, 'exit 0\n')
    const few = writeSuite(dir, 'few', FEW, (i) => `test_${i}.sh`, 'exit 0\n')
    const rows = shRunners(dir).map((r) => ({ ...r, many: [], few: [] }))
    // Interleaved: every repetition runs every runner at N and at 1, so a burst of load on this
    // shared machine falls on all of them alike; the order of N and 3 alternates between repetitions.
    for (let rep = 0; rep < reps; rep++) {
      for (const row of rows) {
        for (const n of rep % 2 ? [FEW, count] : [count, FEW]) {
          const res = mustPass(await row.run(n, n === FEW ? few : many), `${row.name} on ${n} sh tests`)
          if (row.claimrun) {
            const passed = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')).counts.passed
            if (passed !== n) throw new Error(`${row.name}: ${passed} of ${n} tests passed`)
          }
          ;(n === FEW ? row.few : row.many).push(res)
        }
      }
    }
    for (const row of rows) {
      row.reps = row.many.length
      row.ms = median(row.many.map((r) => r.ms))
      row.fewMs = median(row.few.map((r) => r.ms))
      row.cpuMs = median(row.many.map((r) => r.cpuMs))
      row.fewCpuMs = median(row.few.map((r) => r.cpuMs))
      row.slope = (row.ms - row.fewMs) / (count - FEW)
      row.cpuSlope = (row.cpuMs - row.fewCpuMs) / (count - FEW)
      log(`  per-test  ${row.name.padEnd(52)} N=${count} ${row.ms.toFixed(0).padStart(5)} ms, N=${FEW} ${row.fewMs.toFixed(0).padStart(4)} ms → ${row.slope.toFixed(3)} ms/test wall, ${row.cpuSlope.toFixed(3)} ms/test CPU`)
    }
    return { count, few: FEW, rows, node: THIS_NODE.version }
  } finally {
    done()
  }
}

/** Whole runs of 500 node scripts and 500 node:test files (targets from before issue 13). */
export async function benchNodeSuites({ count = 500, reps = 2, nodeTestReps = 1, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    const node = writeSuite(dir, 'node', count, (i) => `test_${i}.js`, '')
    const nodetest = writeSuite(dir, 'nodetest', count, (i) => `t${i}.test.mjs`, "import test from 'node:test'\ntest('passes', () => {})\n")
    const out = join(dir, 'out')
    const opts = { cwd: dir, cpu: true }
    const configs = [
      ['node', 'claimrun', () => claimrun()(out, 'node', opts), reps],
      ['node', 'Node floor: one thread, 3 async lanes', () => floor('main')(node, process.execPath, opts), reps],
      ['node', 'xargs -P3 -n1 node', () => xargs(node, [process.execPath], opts), reps],
      ['node:test', 'node --test --test-concurrency=3', () => timed(process.execPath, ['--test', '--test-concurrency=3', '--test-reporter=dot', ...nodetest], opts), nodeTestReps],
      ['node:test', 'claimrun (same files)', () => claimrun()(out, 'nodetest', opts), nodeTestReps],
    ]
    const rows = configs.map(([suite, name, , n]) => ({ suite, name, reps: n, runs: [] }))
    for (let r = 0; r < Math.max(reps, nodeTestReps); r++) {
      for (const [i, [suite, name, fn, n]] of configs.entries()) {
        if (r < n) rows[i].runs.push(mustPass(await fn(), `${name} on ${suite}`))
      }
    }
    for (const row of rows) {
      row.ms = median(row.runs.map((r) => r.ms))
      row.cpuMs = median(row.runs.map((r) => r.cpuMs))
      log(`  whole run ${row.suite.padEnd(10)} ${row.name.padEnd(40)} ${row.ms.toFixed(0).padStart(6)} ms wall, ${row.cpuMs.toFixed(0).padStart(6)} ms CPU`)
    }
    return { count, rows }
  } finally {
    done()
  }
}
