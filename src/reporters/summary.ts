import { join } from 'node:path'
import { escapeControl, escapeLine } from '../util/escape.js'
import { isPassing, type RunResult, type TestResult } from '../types.js'
import { describeSubtests, subtestTotals } from './subtests.js'
import { describeOrder, displayPath, formatMs, makeStyle, pad, padStart, STATUS_COLOR, width } from './format.js'

const FAILURE_LINES = 50

export interface SummaryOptions {
  color: boolean
  /** Paths in the summary are shown relative to it. */
  cwd: string
}

interface WorkerStats {
  tests: number
  passed: number
  failed: number
  busyMs: number
}

function workerStats(result: RunResult): Map<string, WorkerStats> {
  const stats = new Map<string, WorkerStats>(result.workers.map((w) => [w, { tests: 0, passed: 0, failed: 0, busyMs: 0 }]))
  for (const t of result.tests) {
    const s = t.worker ? stats.get(t.worker) : undefined
    if (!s) continue
    s.tests++
    if (isPassing(t.status)) s.passed++
    else s.failed++
    s.busyMs += t.durationMs ?? 0
  }
  return stats
}

/** The closing line, in the `N passed, N failed` form CI systems read. */
export function totalsLine(result: RunResult): string {
  const c = result.counts
  const extra = (['flaky', 'timedout', 'error', 'interrupted', 'notrun'] as const)
    .filter((s) => c[s] > 0)
    .map((s) => `${c[s]} ${s}`)
  const passed = c.passed + c.flaky
  const failed = c.failed + c.timedout + c.error + c.interrupted
  const tail = extra.length ? ` (${extra.join(', ')})` : ''
  return `${passed} passed, ${failed} failed${tail} - ${result.tests.length} tests in ${formatMs(result.durationMs)} on ${result.workers.length} workers`
}

/**
 * The run as the pipeline it grew from (run → run_tests → workers → summary), then every test,
 * then each failure's last lines, then the totals. Test output and names are escaped.
 */
export function renderSummary(result: RunResult, options: SummaryOptions): string {
  const style = makeStyle(options.color)
  const lines: string[] = []
  const stats = workerStats(result)
  const failed = result.tests.filter((t) => !isPassing(t.status))
  const runState = result.interrupted ? `interrupted (${result.interrupted})` : failed.length ? 'failed' : 'passed'

  const extras = [`order ${describeOrder(result.order)}`, ...(result.shard ? [`shard ${result.shard}`] : []), ...(result.bailed ? ['bailed'] : [])]
  lines.push(`${style('bold', 'run')} (serial)  ${runState}  ${formatMs(result.durationMs)}  ${extras.join(', ')}`)
  lines.push(`├── run_tests (parallel, ${result.workers.length} workers)`)
  result.workers.forEach((w, i) => {
    const s = stats.get(w) as WorkerStats
    const branch = i === result.workers.length - 1 ? '└──' : '├──'
    const state = s.failed ? style('red', `${s.failed} failed`) : style('green', '0 failed')
    lines.push(`│   ${branch} ${w}  ${padStart(String(s.tests), 4)} tests  ${padStart(String(s.passed), 4)} passed  ${state}  busy ${formatMs(s.busyMs)}`)
  })
  lines.push(`└── summary  ${result.tests.length} tests`)
  lines.push('')

  const ids = result.tests.map((t) => escapeLine(t.id))
  const idWidth = Math.min(60, Math.max(4, ...ids.map(width)))
  const workerWidth = Math.max(8, ...result.workers.map((w) => w.length)) + 2
  lines.push(style('bold', `${pad('TEST', idWidth)}  ${pad('WORKER', workerWidth)}${pad('STATUS', 12)}${padStart('DURATION', 10)}  ATTEMPTS`))
  result.tests.forEach((t, i) => {
    const status = style(STATUS_COLOR[t.status], pad(t.status, 12))
    const attempts = t.attempts > 1 ? String(t.attempts) : ''
    lines.push(`${pad(ids[i] as string, idWidth)}  ${pad(t.worker ?? '-', workerWidth)}${status}${padStart(formatMs(t.durationMs), 10)}  ${attempts}`)
  })

  for (const t of result.tests) {
    if (isPassing(t.status) && !t.notes && !t.leaked && t.status !== 'flaky') continue
    if (t.status === 'notrun' || t.status === 'interrupted') continue
    lines.push('')
    lines.push(style(STATUS_COLOR[t.status], `── ${t.status}: ${escapeLine(t.id)}`) + `  ${describe(t)}`)
    if (t.log) lines.push(`   log: ${displayPath(join(result.out, t.log.path), options.cwd)} (bytes ${t.log.offset}..${t.log.offset + t.log.length})`)
    for (const note of t.notes ?? []) lines.push(`   note: ${escapeLine(note)}`)
    if (t.error) lines.push(`   error: ${escapeLine(t.error)}`)
    if (t.subtests) lines.push(`   ${escapeLine(describeSubtests(t.subtests))}`)
    if (isPassing(t.status)) continue
    const tail = escapeControl(t.tail).split('\n')
    if (tail.at(-1) === '') tail.pop()
    if (tail.length === 0) lines.push(style('gray', '   (no output)'))
    for (const l of tail.slice(-FAILURE_LINES)) lines.push(`   ${l}`)
  }

  const interrupted = result.tests.filter((t) => t.status === 'interrupted' || t.status === 'notrun')
  if (interrupted.length) {
    lines.push('')
    lines.push(`${result.counts.interrupted} interrupted, ${result.counts.notrun} not run`)
  }
  for (const e of result.internalErrors ?? []) lines.push(style('red', `internal: ${escapeLine(e)}`))
  const subtests = subtestTotals(result.tests)
  lines.push('')
  if (subtests) lines.push(escapeLine(subtests))
  lines.push(style('bold', totalsLine(result)))
  return lines.join('\n') + '\n'
}

function describe(t: TestResult): string {
  const parts = [t.worker ?? 'no worker']
  if (t.signal) parts.push(`signal ${t.signal}`)
  else if (t.exitCode !== null) parts.push(`exit ${t.exitCode}`)
  parts.push(formatMs(t.durationMs))
  if (t.attempts > 1) parts.push(`${t.attempts} attempts`)
  if (t.leaked) parts.push(`${t.leaked} leftover process${t.leaked > 1 ? 'es' : ''} ended`)
  if (t.droppedBytes) parts.push(`${t.droppedBytes} bytes of output dropped`)
  return `(${parts.join(', ')})`
}
