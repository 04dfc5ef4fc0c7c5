import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { VERDICT } from './outcome.js'
import { writeAtomic } from './out-dir.js'
import type { Status, TestResult } from '../types.js'

/** Durations kept per test; their mean is the estimate (a moving average of recent runs). */
const RECENT = 5

export interface HistoryEntry {
  /** Mean of `recentMs`. */
  avgMs: number
  recentMs: number[]
  lastStatus: Status
  lastRunAt: string
}

export interface History {
  version: 1
  tests: Record<string, HistoryEntry>
}

export const emptyHistory = (): History => ({ version: 1, tests: {} })

function isEntry(e: unknown): e is HistoryEntry {
  const x = e as HistoryEntry
  return typeof x === 'object' && x !== null && typeof x.avgMs === 'number' && Array.isArray(x.recentMs) && typeof x.lastStatus === 'string'
}

/**
 * Reads the history file. A missing file is an empty history; a corrupt or foreign one is an
 * empty history plus a one-line warning (the next save replaces it). Never throws.
 */
export function loadHistory(path: string): { history: History; warning?: string } {
  if (!existsSync(path)) return { history: emptyHistory() }
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as History
    if (data?.version !== 1 || typeof data.tests !== 'object' || data.tests === null || !Object.values(data.tests).every(isEntry)) {
      throw new Error('not a claimrun history file')
    }
    return { history: data }
  } catch (err) {
    return { history: emptyHistory(), warning: `ignoring history ${path} (${(err as Error).message}); it will be replaced after this run` }
  }
}

/** Tests whose durations mean something: they ran to an end of their own. */
const MEASURED: readonly Status[] = ['passed', 'failed', 'flaky', 'timedout']

/** Folds one run's outcomes into the history: durations into the moving average, the last status. */
export function mergeHistory(history: History, tests: TestResult[], at: string): History {
  const next: History = { version: 1, tests: { ...history.tests } }
  for (const t of tests) {
    if (VERDICT[t.status] === 'skipped') continue // cut short: neither a duration nor a verdict
    const prev = next.tests[t.id]
    const recentMs = prev ? [...prev.recentMs] : []
    if (MEASURED.includes(t.status) && t.durationMs !== null) recentMs.push(t.durationMs)
    while (recentMs.length > RECENT) recentMs.shift()
    const avgMs = recentMs.length ? Math.round((recentMs.reduce((a, b) => a + b, 0) / recentMs.length) * 10) / 10 : (prev?.avgMs ?? 0)
    next.tests[t.id] = { avgMs, recentMs, lastStatus: t.status, lastRunAt: at }
  }
  return next
}

export function saveHistory(path: string, history: History): void {
  mkdirSync(dirname(path), { recursive: true })
  writeAtomic(path, JSON.stringify(history, null, 1) + '\n')
}
