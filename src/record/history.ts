import { existsSync, readFileSync, statSync } from 'node:fs'
import { ClaimrunError } from '../vocab/errors.js'
import { dirname, join } from 'node:path'
import { VERDICT } from './outcome.js'
import { writeAtomic } from './out-dir.js'
import { lockWithin } from './file-lock.js'
import { makeDirs } from '../util/make-dirs.js'
import { WAITED_BEHIND_HEAVIER, type Status, type TestResult } from '../vocab/types.js'

/** Durations kept per test; their mean is the estimate (a moving average of recent runs). */
const RECENT = 5

export interface HistoryEntry {
  /** Mean of `recentMs`. */
  avgMs: number
  recentMs: number[]
  /**
   * Added later, so absent from older files and from tests that never waited: the mean of
   * `recentWaitMs`, how long the test stood passed over for its own needs (a full lock group, the
   * capacity its weight needs) in each recent run. Waits behind a heavier test's reservation are
   * not its own and count as 0. Both go once five runs in a row did not wait.
   */
  avgWaitMs?: number
  recentWaitMs?: number[]
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
 * empty history plus a one-line warning (the next save replaces it). Throws only for a folder, a
 * file that is not a regular file, or one too big to be a history (see checkHistorySize).
 */
export function loadHistory(path: string): { history: History; warning?: string } {
  if (!existsSync(path)) return { history: emptyHistory() }
  checkHistorySize(path)
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as History
    if (data?.version !== 1 || typeof data.tests !== 'object' || data.tests === null || !Object.values(data.tests).every(isEntry)) {
      throw new Error('not a claimrun history file')
    }
    for (const entry of Object.values(data.tests)) dropBadWaits(entry)
    return { history: data }
  } catch (err) {
    return { history: emptyHistory(), warning: `ignoring history ${path} (${(err as Error).message}); it will be replaced after this run` }
  }
}

/** The optional wait fields are read only when they are what this version writes; otherwise the entry is kept without them. */
function dropBadWaits(entry: HistoryEntry): void {
  const ok = typeof entry.avgWaitMs === 'number' && Number.isFinite(entry.avgWaitMs) && Array.isArray(entry.recentWaitMs) && entry.recentWaitMs.every((ms) => typeof ms === 'number' && Number.isFinite(ms))
  if (ok || (entry.avgWaitMs === undefined && entry.recentWaitMs === undefined)) return
  delete entry.avgWaitMs
  delete entry.recentWaitMs
}

/**
 * A history entry takes about 150-250 bytes (id, five durations, status, date), so 64 MiB holds some
 * 300,000 tests; JSON.parse needs about twice the file in memory. A bigger file is not a history
 * claimrun wrote: refused with a line, never read (docs/design/memory.md) and never overwritten.
 */
export const MAX_HISTORY_BYTES = 64 * 1024 * 1024

/** Throws CLAIMRUN_BAD_OPTION when the history file is a folder, not a regular file, or too big to be a history. */
export function checkHistorySize(path: string): void {
  const st = statSync(path, { throwIfNoEntry: false })
  if (!st) return
  if (st.isDirectory()) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--history ${JSON.stringify(path)} is a folder; name a file, such as ${JSON.stringify(join(path, 'history.json'))}, or use --no-history`)
  // A FIFO would be waited on forever, /dev/zero read forever, and neither can keep a history.
  if (!st.isFile()) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--history ${JSON.stringify(path)} is not a regular file; name a file, or use --no-history`)
  if (st.size > MAX_HISTORY_BYTES) {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--history ${JSON.stringify(path)} is ${Math.round(st.size / 1048576)} MiB, above the ${MAX_HISTORY_BYTES / 1048576} MiB a history file may have (about 300,000 tests); delete it, or use --history <another file> or --no-history`)
  }
}

/**
 * How long a test takes in a run that may pass it over for its needs: its duration and the wait
 * its needs cost it (a lock group's chain, room for its weight), from the history. The claim order
 * of a run with needs ranks by this (plan/needs-order.ts); the reservation, which predicts when a
 * running test ends, uses `avgMs` alone.
 */
export const estimateWithWait = (e: HistoryEntry): number => e.avgMs + (e.avgWaitMs ?? 0)

/** The part of a test's wait that its own needs caused (see HistoryEntry.avgWaitMs). */
const ownWait = (t: TestResult): number => (t.waitMs && t.waitedFor !== WAITED_BEHIND_HEAVIER ? t.waitMs : 0)

const mean = (xs: number[]): number => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10

/** Tests whose durations mean something: they ran to an end of their own. */
const MEASURED: readonly Status[] = ['passed', 'failed', 'flaky', 'timedout']

/** Folds one run's outcomes into the history: durations into the moving average, the last status. */
export function mergeHistory(history: History, tests: TestResult[], at: string): History {
  const next: History = { version: 1, tests: { ...history.tests } }
  for (const t of tests) {
    if (VERDICT[t.status] === 'skipped') continue // cut short: neither a duration nor a verdict
    const prev = next.tests[t.id]
    const measured = MEASURED.includes(t.status) && t.durationMs !== null
    const recentMs = prev ? [...prev.recentMs] : []
    if (measured) recentMs.push(t.durationMs as number)
    while (recentMs.length > RECENT) recentMs.shift()
    const avgMs = recentMs.length ? mean(recentMs) : (prev?.avgMs ?? 0)
    next.tests[t.id] = { avgMs, recentMs, ...waits(prev, measured ? ownWait(t) : null), lastStatus: t.status, lastRunAt: at }
  }
  return next
}

/**
 * The entry's wait fields after this run (`wait`: its own wait, null when the run measured no
 * duration), aligned with `recentMs`: kept only while one of the recent runs waited, so an entry
 * without them had waited 0 in each of its recent runs.
 */
function waits(prev: HistoryEntry | undefined, wait: number | null): Pick<HistoryEntry, 'avgWaitMs' | 'recentWaitMs'> {
  const kept = prev?.recentWaitMs ?? []
  const runs = prev?.recentMs.length ?? 0
  // The runs before its first wait waited 0.
  const recentWaitMs = kept.length >= runs ? kept.slice(kept.length - runs) : [...Array<number>(runs - kept.length).fill(0), ...kept]
  if (wait !== null) recentWaitMs.push(wait)
  while (recentWaitMs.length > RECENT) recentWaitMs.shift()
  return recentWaitMs.some((ms) => ms > 0) ? { avgWaitMs: mean(recentWaitMs), recentWaitMs } : {}
}

export function saveHistory(path: string, history: History): void {
  makeDirs(dirname(path))
  writeAtomic(path, JSON.stringify(history, null, 1) + '\n')
}

/** Longer than any merge takes (milliseconds), short enough that a stuck holder is reported, not waited out. */
const HISTORY_LOCK_WAIT_MS = 10_000

/**
 * Folds a run's outcomes into the history file under a lock (`<file>.lock`), reading the file
 * again inside it: two runs sharing one history both land, neither overwrites the other's entries
 * with what it read at its start. Throws when the lock stays held or the file cannot be written.
 */
export function saveHistoryMerged(path: string, tests: TestResult[], at: string): void {
  makeDirs(dirname(path))
  const lock = lockWithin(`${path}.lock`, HISTORY_LOCK_WAIT_MS)
  if (!lock.ok) throw new Error(`locked by pid ${lock.holder.pid} for ${HISTORY_LOCK_WAIT_MS / 1000}s`)
  try {
    saveHistory(path, mergeHistory(loadHistory(path).history, tests, at))
  } finally {
    lock.release()
  }
}

