import { join } from 'node:path'
import { escapeControl, escapeLine } from '../util/escape.js'
import { isFailure, isPassing, tally, type Tally } from '../record/outcome.js'
import type { RunResult, TestResult } from '../vocab/types.js'
import { describeSubtests, subtestTotals } from './subtests.js'
import { waitedNote } from './waited.js'
import { describeOrder, displayPath, formatMs, makeStyle, pad, padStart, STATUS_COLOR, width, type Style } from './format.js'
import { plural } from '../util/plural.js'

const FAILURE_LINES = 50
const SLOWEST = 10
/** Runs up to this many tests get the per-test table in the terminal by default (`--summary auto`). */
export const SMALL_RUN = 30

export interface SummaryOptions {
  color: boolean
  /** Paths in the summary are shown relative to it. */
  cwd: string
  /** The table of every test; summary.txt always has it, a terminal only for small runs. @default true */
  table?: boolean
}

/** `--summary`: auto (the table for small runs only), full (always), short (never, and quiet lines). */
export type SummaryMode = 'auto' | 'full' | 'short'
export const SUMMARY_MODES: readonly SummaryMode[] = ['auto', 'full', 'short']

/**
 * Whether the terminal gets the per-test table. Without a live view each test already had its own
 * line as it ended, so printing the table again would only repeat it (node --test, vitest and
 * nextest likewise end with the failures and the totals, not a second listing).
 */
export function wantsTable(mode: SummaryMode, tests: number, linesPrinted: boolean): boolean {
  if (mode === 'full') return true
  return mode === 'auto' && !linesPrinted && tests <= SMALL_RUN
}

/** The closing line, in the `N passed, N failed` form CI systems read. */
export function totalsLine(result: RunResult, t: Tally = tally(result)): string {
  const extra = (['flaky', 'timedout', 'error', 'interrupted', 'notrun'] as const)
    .filter((s) => t.counts[s] > 0)
    .map((s) => `${t.counts[s]} ${s}`)
  const tail = extra.length ? ` (${extra.join(', ')})` : ''
  const skipped = t.skipped ? `, ${t.skipped} skipped` : ''
  return `${t.passed} passed, ${t.failed} failed${skipped}${tail} - ${plural(t.total, 'test')} in ${formatMs(result.durationMs)} on ${plural(result.workers.length, 'worker')}`
}

/**
 * The run as the pipeline it grew from (run → run_tests → workers → summary), then every test
 * (unless `table` is false), the slowest tests, each failure's last lines, then the totals.
 * Test output and names are escaped.
 */
export function renderSummary(result: RunResult, options: SummaryOptions): string {
  return [...summaryLines(result, options)].join('\n') + '\n'
}

/**
 * The summary's lines (without their newlines), made as they are read: summary.txt is written
 * from them at the end of a run without holding a line per test (see reporters/run-files.ts).
 */
export function* summaryLines(result: RunResult, options: SummaryOptions): Generator<string> {
  const style = makeStyle(options.color)
  const sum = tally(result)
  yield* pipeline(result, style, sum)
  yield ''

  if (options.table ?? true) yield* table(result, style)
  else if (result.tests.length > SMALL_RUN) yield style('gray', `(${result.tests.length} tests: the table of all of them is in ${displayPath(join(result.out, 'summary.txt'), options.cwd)} and report.html; --summary full prints it here)`)

  // Failures come last, next to the totals: the end of a log is what people read first.
  yield* slowest(result)

  for (const t of result.tests) {
    if (isPassing(t.status) && !t.notes && !t.leaked && t.status !== 'flaky') continue
    if (t.status === 'notrun' || t.status === 'interrupted') continue
    yield ''
    yield style(STATUS_COLOR[t.status], `── ${t.status}: ${escapeLine(t.id)}`) + `  ${describe(t)}`
    if (t.log) yield `   log: ${displayPath(join(result.out, t.log.path), options.cwd)} (bytes ${t.log.offset}..${t.log.offset + t.log.length})`
    for (const note of t.notes ?? []) yield `   note: ${escapeLine(note)}`
    if (t.error) yield `   error: ${escapeLine(t.error)}`
    if (t.subtests) yield `   ${escapeLine(describeSubtests(t.subtests))}`
    if (isPassing(t.status)) continue
    const tail = escapeControl(t.tail).split('\n')
    if (tail.at(-1) === '') tail.pop()
    if (tail.length === 0) yield style('gray', '   (no output)')
    for (const l of tail.slice(-FAILURE_LINES)) yield `   ${l}`
  }

  if (result.tests.some((t) => t.status === 'interrupted' || t.status === 'notrun')) {
    yield ''
    yield `${sum.counts.interrupted} interrupted, ${sum.counts.notrun} not run`
  }
  for (const e of result.internalErrors ?? []) yield style('red', `internal: ${escapeLine(e)}`)
  for (const e of result.outputErrors ?? []) yield style('red', `not written: ${escapeLine(e)}`)
  const subtests = subtestTotals(result.tests)
  yield ''
  if (subtests) yield escapeLine(subtests)
  yield style('bold', totalsLine(result, sum))
}

/** The run as the pipeline it grew from: run → run_tests → each worker → summary. */
export function pipeline(result: RunResult, style: Style = makeStyle(false), sum: Tally = tally(result)): string[] {
  const lines: string[] = []
  const runState = result.interrupted ? `interrupted (${result.interrupted})` : sum.failed ? 'failed' : 'passed'

  const extras = [`order ${describeOrder(result.order)}`, ...(result.shard ? [`shard ${result.shard}`] : []), ...(result.bailed ? ['bailed'] : [])]
  lines.push(`${style('bold', 'run')} (serial)  ${runState}  ${formatMs(result.durationMs)}  ${extras.join(', ')}`)
  lines.push(`├── run_tests (parallel, ${plural(result.workers.length, 'worker')})`)
  result.workers.forEach((w, i) => {
    const s = sum.workers[w] ?? { tests: 0, passed: 0, failed: 0, skipped: 0, busyMs: 0 }
    const branch = i === result.workers.length - 1 ? '└──' : '├──'
    const state = s.failed ? style('red', `${s.failed} failed`) : style('green', '0 failed')
    lines.push(`│   ${branch} ${w}  ${padStart(String(s.tests), 4)} ${s.tests === 1 ? 'test ' : 'tests'}  ${padStart(String(s.passed), 4)} passed  ${state}  busy ${formatMs(s.busyMs)}`)
  })
  lines.push(`└── summary  ${plural(result.tests.length, 'test')}`)
  return lines
}

/** The tests whose failure a reader must see: did not pass, and ran (not `notrun`/`interrupted`). */
export const failures = (result: RunResult): TestResult[] => result.tests.filter((t) => isFailure(t.status))

/** The `n` slowest tests, longest first. */
export const slowestTests = (result: RunResult, n = SLOWEST): TestResult[] =>
  result.tests.filter((t) => t.durationMs !== null).sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0)).slice(0, n)

function* table(result: RunResult, style: Style): Generator<string> {
  // The widths first, then each line as it is read (no list of the escaped ids: see summaryLines).
  let idWidth = 4
  for (const t of result.tests) idWidth = Math.max(idWidth, width(escapeLine(t.id)))
  idWidth = Math.min(60, idWidth)
  const workerWidth = Math.max(8, ...result.workers.map((w) => w.length)) + 2
  yield style('bold', `${pad('TEST', idWidth)}  ${pad('WORKER', workerWidth)}${pad('STATUS', 12)}${padStart('DURATION', 10)}  ATTEMPTS`)
  for (const t of result.tests) {
    const status = style(STATUS_COLOR[t.status], pad(t.status, 12))
    const attempts = t.attempts > 1 ? String(t.attempts) : ''
    yield `${pad(escapeLine(t.id), idWidth)}  ${pad(t.worker ?? '-', workerWidth)}${status}${padStart(formatMs(t.durationMs), 10)}  ${attempts}`
  }
}

/** The slowest tests, longest first: where the run's time went. */
function slowest(result: RunResult): string[] {
  const shown = slowestTests(result)
  if (shown.length === 0) return []
  const workerWidth = Math.max(8, ...shown.map((t) => (t.worker ?? '-').length))
  return ['', `slowest ${shown.length} of ${result.tests.length}:`, ...shown.map((t) => `  ${padStart(formatMs(t.durationMs), 9)}  ${pad(t.worker ?? '-', workerWidth)}  ${escapeLine(t.id)}${waitedNote(t)}`)]
}

export function describe(t: TestResult): string {
  const parts = [t.worker ?? 'no worker']
  if (t.signal) parts.push(`signal ${t.signal}`)
  else if (t.exitCode !== null) parts.push(`exit ${t.exitCode}`)
  parts.push(formatMs(t.durationMs))
  if (t.attempts > 1) parts.push(`${t.attempts} attempts`)
  if (t.waitMs) parts.push(waitedNote(t).slice(2, -1))
  if (t.leaked) parts.push(`${plural(t.leaked, 'leftover process', 'leftover processes')} ended`)
  if (t.droppedBytes) parts.push(`${plural(t.droppedBytes, 'byte')} of output dropped`)
  return `(${parts.join(', ')})`
}
