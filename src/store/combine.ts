import { join } from 'node:path'
import { ClaimrunError } from '../vocab/errors.js'
import { prepareOut } from '../record/out-folder.js'
import { exitCodeOf } from '../record/outcome.js'
import { buildRunResult } from '../record/run-result.js'
import { fromStored, type StoredOutcome } from './stored-outcome.js'
import { RedisStore } from './redis-store.js'
import { writeRunFiles } from '../reporters/run-files.js'
import { sleep } from '../util/time.js'
import type { RunResult, TestResult } from '../vocab/types.js'
import { plural } from '../util/plural.js'

export interface ReportOptions {
  store: string
  runId: string
  out: string
  /** Seconds to wait for every test to have an outcome. @default 0 */
  wait?: number
  cwd?: string
}

/**
 * `claimrun report`: the combined outcome of a run shared through a store. Waits (up to `wait`
 * seconds) until every test has an outcome; a test still without one is reported as `notrun` with
 * the reason, and makes the exit code 1. Writes results.json, summary.txt, junit.xml and
 * report.html to `out`. Logs stay on the machines that ran the tests.
 */
export async function report(options: ReportOptions): Promise<RunResult> {
  const store = await RedisStore.connect(options.store, options.runId)
  try {
    const deadline = Date.now() + (options.wait ?? 0) * 1000
    let plan = await store.plan()
    let outcomes = new Map<number, unknown>()
    for (;;) {
      if (plan) outcomes = await store.results()
      if ((plan && outcomes.size >= plan.length) || Date.now() >= deadline) break
      await sleep(500)
      plan ??= await store.plan()
    }
    if (!plan) {
      throw new ClaimrunError('CLAIMRUN_STORE', `no run ${JSON.stringify(options.runId)} in the store; check --run-id, or start the run with claimrun run --store first`)
    }
    const stored = plan.map((_, i) => outcomes.get(i) as StoredOutcome | undefined)
    const starts = stored.flatMap((s) => (s?.startAt != null ? [s.startAt] : []))
    const t0 = starts.length ? Math.min(...starts) : Date.now()
    const tests: TestResult[] = plan.map((id, i) => {
      const s = stored[i]
      if (!s) {
        return { id, file: id, worker: null, status: 'notrun', exitCode: null, signal: null, startMs: null, endMs: null, durationMs: null, attempts: 0, error: 'no outcome in the store when the report was made', outputBytes: 0, tail: '' }
      }
      return fromStored(id, s, t0)
    })
    const unfinished = stored.filter((s) => !s).length
    const ends = tests.flatMap((t) => (t.endMs !== null ? [t.endMs] : []))
    const durationMs = ends.length ? Math.max(...ends) : 0
    const result = buildRunResult({
      startedAt: new Date(t0).toISOString(),
      // The shared run's end (its last outcome), not when this report was made.
      finishedAt: new Date(t0 + durationMs).toISOString(),
      durationMs,
      workers: [...new Set(tests.flatMap((t) => (t.worker ? [t.worker] : [])))].sort(),
      tests,
      order: { mode: 'given' },
      warnings: unfinished ? [`${plural(unfinished, 'test')} had no outcome when the report was made`] : [],
      exitCode: unfinished ? 1 : exitCodeOf(tests, undefined),
      out: options.out,
    })
    const lease = prepareOut(options.out)
    try {
      writeRunFiles(result, { cwd: options.cwd ?? process.cwd(), junit: join(options.out, 'junit.xml'), logs: false })
    } finally {
      lease.release()
    }
    return result
  } finally {
    await store.close()
  }
}
