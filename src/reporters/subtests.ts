import type { SubtestSummary, TestResult } from '../vocab/types.js'

/** How many names of failing sub-tests a one-line description lists before "and N more". */
const NAMED = 5

export const subtestTotal = (s: SubtestSummary): number => s.passed + s.failed + s.skipped + s.todo

/**
 * One line about a test's TAP sub-tests, e.g. `3/5 sub-tests passed, 1 skipped; failing: a, b;
 * planned 6 sub-tests but ran 5`. Names are as the test printed them: the caller escapes.
 */
export function describeSubtests(s: SubtestSummary): string {
  if (s.skipAll !== undefined && subtestTotal(s) === 0) return `all sub-tests skipped${s.skipAll ? `: ${s.skipAll}` : ''}`
  const parts = [`${s.passed}/${subtestTotal(s)} sub-tests passed`]
  if (s.skipped) parts.push(`${s.skipped} skipped`)
  if (s.todo) parts.push(`${s.todo} todo`)
  let line = parts.join(', ')
  if (s.failures.length) {
    const more = Math.max(s.failed, s.failures.length) - Math.min(NAMED, s.failures.length)
    line += `; failing: ${s.failures.slice(0, NAMED).join(', ')}${more > 0 ? ` and ${more} more` : ''}`
  }
  // "N of M sub-tests failed" says again what the counts said.
  const other = s.problems.filter((p) => !/ sub-tests failed$/.test(p))
  if (other.length) line += `; ${other.join('; ')}`
  return line
}

/** Totals over every test that printed TAP, or undefined when none did. */
export function subtestTotals(tests: TestResult[]): string | undefined {
  const tap = tests.filter((t) => t.subtests)
  if (tap.length === 0) return undefined
  const sum = { passed: 0, failed: 0, skipped: 0, todo: 0 }
  for (const t of tap) for (const k of ['passed', 'failed', 'skipped', 'todo'] as const) sum[k] += (t.subtests as SubtestSummary)[k]
  const extra = (['skipped', 'todo'] as const).filter((k) => sum[k] > 0).map((k) => `, ${sum[k]} ${k}`).join('')
  return `sub-tests: ${sum.passed} passed, ${sum.failed} failed${extra} in ${tap.length} TAP test${tap.length > 1 ? 's' : ''}`
}
