// The constrained suite: 30 uneven sleep tests on 4 workers, 10 of them in one lock group (max 1),
// two of weight 3 and one serial test, declared in the files' own headers; its makespan against
// the suite's lower bound, side by side with the same 30 tests declared as nothing (every test
// alone, so the same wall time is not comparable: that row shows what the constraints cost).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { median, mustPass, scratch, timed } from './support/measure.mjs'
import { BASELINE, CLI } from './support/runners.mjs'

export const CONSTRAINED_WORKERS = 4
/** [ms, header]: 10 in group db, two of weight 3, one serial, 17 free. */
export const CONSTRAINED_SUITE = [
  ...[150, 200, 250, 150, 300, 200, 250, 150, 200, 250].map((ms) => [ms, 'group=db']),
  [600, 'weight=3'],
  [500, 'weight=3'],
  [400, 'serial'],
  ...[900, 700, 600, 500, 450, 400, 350, 300, 300, 250, 250, 200, 200, 150, 150, 100, 100].map((ms) => [ms, '']),
]

/** The largest of: the weighted work over the workers, each group's work over its max, the longest test plus the serial ones. */
export function constrainedBound(suite, workers, startMs = 0) {
  const weight = (h) => (h === 'serial' ? workers : Number(/weight=(\d+)/.exec(h)?.[1] ?? 1))
  const work = suite.reduce((a, [ms, h]) => a + (ms + startMs) * weight(h), 0) / workers
  const group = suite.filter(([, h]) => h.includes('group=db')).reduce((a, [ms]) => a + ms + startMs, 0)
  const serial = suite.filter(([, h]) => h === 'serial').reduce((a, [ms]) => a + ms + startMs, 0)
  const longest = Math.max(...suite.filter(([, h]) => h !== 'serial').map(([ms]) => ms + startMs))
  return { work, group, longestPlusSerial: longest + serial, bound: Math.max(work, group, longest + serial) }
}

export async function benchConstrained({ reps = 5, log = console.log } = {}) {
  const { dir, done } = scratch()
  try {
    // Shuffled names, so that name order is no help: the order comes from history (longest first).
    const db = new Set()
    const names = new Map()
    CONSTRAINED_SUITE.forEach(([ms, header], i) => {
      const name = `test_${String((i * 7) % CONSTRAINED_SUITE.length).padStart(2, '0')}.sh`
      if (header.includes('group=db')) db.add(name)
      names.set(name, header)
      writeFileSync(join(dir, name), `${header ? `# claimrun: ${header}\n` : ''}sleep ${ms / 1000}\n`)
    })
    const shStarts = []
    for (let i = 0; i < 5; i++) shStarts.push((await timed('sh', ['-c', 'exit 0'])).ms)
    const start = median(shStarts)
    const out = join(dir, 'out')
    const history = join(dir, 'history.json')
    const run = (cli, args) => () => timed(process.execPath, [cli, 'run', '--workers', String(CONSTRAINED_WORKERS), ...args, '--out', out, '.'], { cwd: dir })
    const baseHistory = join(dir, 'history-before.json')
    // Warm the history twice (as a user's earlier runs would have); the old build keeps its own.
    for (let i = 0; i < 2; i++) mustPass(await run(CLI, ['--history', history])(), 'claimrun (warming the history)')
    for (let i = 0; BASELINE && i < 2; i++) mustPass(await run(BASELINE, ['--history', baseHistory])(), 'claimrun before (warming its history)')
    const configs = {
      'claimrun, constrained, smart order (with history)': run(CLI, ['--history', history]),
      'claimrun, constrained, no history (a first run; reserves conservatively)': run(CLI, ['--no-history']),
      // A build from before lock groups ignores the headers (its overlaps column then counts them).
      ...(BASELINE ? { 'claimrun before (CLAIMRUN_BENCH_BASELINE, with its own history)': run(BASELINE, ['--history', baseHistory]) } : {}),
    }
    const rows = Object.keys(configs).map((name) => ({ name, runs: [], overlaps: [], measured: [] }))
    for (let r = 0; r < reps; r++) {
      for (const [i, fn] of Object.values(configs).entries()) {
        const row = rows[i]
        const res = mustPass(await fn(), row.name)
        row.runs.push(res.ms)
        const result = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))
        row.overlaps.push(groupOverlaps(result, db))
        row.measured.push(result.durationMs / measuredBound(result, names))
      }
    }
    const bound = constrainedBound(CONSTRAINED_SUITE, CONSTRAINED_WORKERS)
    const withStarts = constrainedBound(CONSTRAINED_SUITE, CONSTRAINED_WORKERS, start)
    for (const row of rows) {
      row.ms = median(row.runs)
      row.measuredRatio = median(row.measured)
      log(`  constrained  ${row.name.padEnd(60)} ${row.ms.toFixed(0).padStart(6)} ms = ${(row.ms / bound.bound).toFixed(3)}× the bound (${(row.ms / withStarts.bound).toFixed(3)}× with process starts; the run's own span ${row.measuredRatio.toFixed(3)}× the bound of its tests' measured durations); group db overlaps: ${Math.max(...row.overlaps)}`)
    }
    log(`  constrained  lower bound ${bound.bound.toFixed(0)} ms (work/${CONSTRAINED_WORKERS} ${bound.work.toFixed(0)}, group db ${bound.group.toFixed(0)}, longest + serial ${bound.longestPlusSerial.toFixed(0)}); with one sh start (${start.toFixed(1)} ms) per test ${withStarts.bound.toFixed(0)} ms`)
    return { reps, rows, bound, withStarts, processStartMs: start, workers: CONSTRAINED_WORKERS }
  } finally {
    done()
  }
}

/** The same bound from the durations the run itself measured (load on a shared machine stretches every test alike). */
function measuredBound(result, names) {
  return constrainedBound(result.tests.map((t) => [t.durationMs, names.get(t.id) ?? '']), CONSTRAINED_WORKERS).bound
}

/** How many times two tests of group db ran at once in one run (0 when the group held). */
function groupOverlaps(result, ids) {
  const db = result.tests.filter((t) => ids.has(t.id) && t.startMs !== null).sort((a, b) => a.startMs - b.startMs)
  let overlaps = 0
  for (let i = 1; i < db.length; i++) if (db[i].startMs < db[i - 1].endMs) overlaps++
  return overlaps
}
