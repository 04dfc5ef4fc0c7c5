/**
 * The outcome model: what each status means, in one place. Every reporter (terminal, summary.txt,
 * results.json `counts`/`tally`, JUnit, the HTML page, the GitHub summary), the exit code and the
 * history read it from here; nothing else decides what "failed" means.
 *
 * | status      | counts as | JUnit element  | how it ended (wording)                  |
 * | passed      | passed    | (none)         | passed                                  |
 * | flaky       | passed¹   | flakyFailure   | passed on attempt N (flaky)             |
 * | failed      | failed    | failure        | failed (exit N) / killed by SIGNAL      |
 * | timedout    | failed    | failure        | timed out                               |
 * | error       | failed    | error          | error: <why it could not run>           |
 * | interrupted | skipped   | skipped        | interrupted                             |
 * | notrun      | skipped   | skipped²       | not run                                 |
 *
 * ¹ `--fail-on-flaky` makes a flaky test fail the exit code; it still counts as passed in tallies.
 * `interrupted` and `notrun` are "skipped": the run stopped before they had a verdict, so they are
 * neither passed nor failed (the exit code, 130/143, says the run was interrupted).
 * ² A test not run because `--setup` failed is an `error` in JUnit (the run is broken, exit 2, not
 * skipped), as pytest reports the tests of a fixture that failed to set up.
 */
import type { Counts, RunResult, Status, TestResult } from '../vocab/types.js'

export type Verdict = 'passed' | 'failed' | 'skipped'

export const STATUSES: readonly Status[] = ['passed', 'flaky', 'failed', 'timedout', 'error', 'interrupted', 'notrun']

export const VERDICT: Readonly<Record<Status, Verdict>> = {
  passed: 'passed',
  flaky: 'passed',
  failed: 'failed',
  timedout: 'failed',
  error: 'failed',
  interrupted: 'skipped',
  notrun: 'skipped',
}

/** The JUnit element each status gets (failures + errors = the "failed" verdict; skipped = "skipped"). */
export const JUNIT_ELEMENT: Readonly<Record<Status, 'failure' | 'error' | 'skipped' | null>> = {
  passed: null,
  flaky: null,
  failed: 'failure',
  timedout: 'failure',
  error: 'error',
  interrupted: 'skipped',
  notrun: 'skipped',
}

/** The JUnit element of a test in a run whose setup did (or did not) fail: see ² above. */
export const junitElement = (status: Status, setupFailed: boolean): 'failure' | 'error' | 'skipped' | null =>
  setupFailed && status === 'notrun' ? 'error' : JUNIT_ELEMENT[status]

/** Whether the run's `--setup` failed, so that no test ran (the run rejected with CLAIMRUN_SETUP_FAILED). */
export const setupFailedIn = (result: Pick<RunResult, 'setup'>): boolean => result.setup?.status === 'failed' || result.setup?.status === 'error'

/** Statuses that count as passing; `flaky` does unless the run fails on flaky tests. */
export const isPassing = (status: Status, failOnFlaky = false): boolean =>
  VERDICT[status] === 'passed' && !(failOnFlaky && status === 'flaky')

export const isFailure = (status: Status): boolean => VERDICT[status] === 'failed'

/** Statuses that count as "did not pass last time" for ordering and `--last-failed`: failed, or cut short. */
export const didNotPass = (status: Status): boolean => VERDICT[status] !== 'passed' && status !== 'notrun'

/** The CLI's exit code for a finished run: 130/143/129 when interrupted, else 0 if every test passed, else 1. */
export function exitCodeOf(tests: Pick<TestResult, 'status'>[], interrupted: string | undefined, failOnFlaky = false): number {
  if (interrupted) return interrupted === 'SIGTERM' ? 143 : interrupted === 'SIGHUP' ? 129 : 130
  return tests.every((t) => isPassing(t.status, failOnFlaky)) ? 0 : 1
}

/** What a finished process means, before any retry or flaky decision: the one place exit → status. */
export interface ProcessEnd {
  spawnError?: string | undefined
  timedOut: boolean
  exitCode: number | null
  /** Problems its TAP output showed (a `not ok`, a wrong plan, `Bail out!`): they fail an exit 0. */
  tapProblems?: readonly string[] | undefined
}

export function statusOfEnd(end: ProcessEnd, stopped: boolean): Status {
  if (end.spawnError) return 'error'
  if (end.timedOut) return 'timedout'
  if (end.exitCode === 0 && !end.tapProblems?.length) return 'passed'
  return stopped ? 'interrupted' : 'failed'
}

/** How a test ended, in the same words everywhere (worker log footer, summary, JUnit, live view). */
export function describeEnd(t: Pick<TestResult, 'status' | 'exitCode' | 'signal' | 'error' | 'attempts'>, detail?: string): string {
  switch (t.status) {
    case 'passed':
      return 'passed'
    case 'flaky':
      return `passed on attempt ${t.attempts} (flaky)`
    case 'timedout':
      return 'timed out'
    case 'error':
      return `error: ${t.error ?? 'could not run'}`
    case 'interrupted':
      return 'interrupted'
    case 'notrun':
      return 'not run'
    case 'failed':
      return t.signal ? `killed by ${t.signal}` : `failed (exit ${t.exitCode}${detail ? `, ${detail}` : ''})`
  }
}

export interface WorkerTally {
  tests: number
  passed: number
  failed: number
  skipped: number
  busyMs: number
}

/** The one tally: per status, per verdict, and per worker. Reporters and the page read it, never recount. */
export interface Tally {
  counts: Counts
  passed: number
  failed: number
  skipped: number
  total: number
  workers: Record<string, WorkerTally>
}

export function countStatuses(tests: Pick<TestResult, 'status'>[]): Counts {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Counts
  for (const t of tests) counts[t.status]++
  return counts
}

export function tally(result: Pick<RunResult, 'tests' | 'workers'>): Tally {
  const counts = countStatuses(result.tests)
  const sum = (v: Verdict): number => STATUSES.filter((s) => VERDICT[s] === v).reduce((n, s) => n + counts[s], 0)
  const workers: Record<string, WorkerTally> = Object.fromEntries(result.workers.map((w) => [w, { tests: 0, passed: 0, failed: 0, skipped: 0, busyMs: 0 }]))
  for (const t of result.tests) {
    const w = t.worker ? workers[t.worker] : undefined
    if (!w) continue
    w.tests++
    w[VERDICT[t.status]]++
    w.busyMs += t.durationMs ?? 0
  }
  return { counts, passed: sum('passed'), failed: sum('failed'), skipped: sum('skipped'), total: result.tests.length, workers }
}
