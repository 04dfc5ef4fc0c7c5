import type { PlanEntry } from '../vocab/protocol.js'
import { logFileName } from '../vocab/names.js'
import type { EndMessage, StartMessage } from '../vocab/protocol.js'
import type { AttemptResult, Status, TestResult } from '../vocab/types.js'

const round = (ms: number): number => Math.round(ms * 10) / 10

/**
 * The one place results are recorded: by the main thread, once per test, keyed by slot.
 * Workers only report; this decides nothing about scheduling.
 */
export class Recorder {
  private readonly results: (TestResult | undefined)[]
  private readonly notes: (string[] | undefined)[]
  private readonly lastStart: (StartMessage | undefined)[]
  private readonly previous: (AttemptResult[] | undefined)[]

  constructor(
    private readonly plan: PlanEntry[],
    private readonly workerName: (lane: number) => string,
    private readonly t0: number,
  ) {
    this.results = new Array(plan.length)
    this.notes = new Array(plan.length)
    this.lastStart = new Array(plan.length)
    this.previous = new Array(plan.length)
  }

  relMs(at: number): number {
    return round(at - this.t0)
  }

  started(report: StartMessage): void {
    this.lastStart[report.slot] = report
  }

  startOf(slot: number): StartMessage | undefined {
    return this.lastStart[slot]
  }

  note(slot: number, text: string): void {
    ;(this.notes[slot] ??= []).push(text)
  }

  has(slot: number): boolean {
    return this.results[slot] !== undefined
  }

  /** Drops an outcome the run as a whole did not accept (a fenced result in a shared store). */
  forget(slot: number, why: string): void {
    this.results[slot] = undefined
    this.note(slot, why)
  }

  get(slot: number): TestResult | undefined {
    return this.results[slot]
  }

  /** Whether an earlier attempt of this test failed (so a pass now makes it flaky). */
  failedBefore(slot: number): boolean {
    return (this.previous[slot]?.length ?? 0) > 0
  }

  /** Keeps a failed attempt that will be retried; it becomes part of the final result. */
  retrying(report: EndMessage, status: Status): TestResult {
    const attempt = this.build(report, status)
    const { worker, exitCode, signal, startMs, endMs, durationMs, attempts, log, tail } = attempt
    ;(this.previous[report.slot] ??= []).push({ worker, status, exitCode, signal, startMs, endMs, durationMs, attempts, ...(log ? { log } : {}), tail })
    this.note(report.slot, `attempt ${report.attempt}: ${status} on ${worker}${exitCode !== null ? ` (exit ${exitCode})` : signal ? ` (${signal})` : ''}; retried`)
    return attempt
  }

  /**
   * A retried test whose next attempt never came (the run stopped): its outcome is its last attempt's.
   * Returns undefined when the test never ran at all.
   */
  settleFromLastAttempt(slot: number): TestResult | undefined {
    const previous = this.previous[slot]
    const last = previous?.pop()
    if (!last) return undefined
    const test = this.plan[slot] as PlanEntry
    return this.put(slot, { id: test.id, file: test.file, ...last, outputBytes: 0 })
  }

  /** Records the outcome a worker reported. */
  finished(report: EndMessage, status: Status): TestResult {
    if (status === 'failed' && report.exitCode === 0 && report.subtests?.problems.length) {
      this.note(report.slot, `exited 0, but its TAP failed it: ${report.subtests.problems.join('; ')}`)
    }
    return this.put(report.slot, this.build(report, status))
  }

  private build(report: EndMessage, status: Status): TestResult {
    const test = this.plan[report.slot] as PlanEntry
    return {
      id: test.id,
      file: test.file,
      worker: this.workerName(report.lane),
      status,
      exitCode: report.exitCode,
      signal: report.signal,
      startMs: this.relMs(report.startAt),
      endMs: this.relMs(report.endAt),
      durationMs: round(report.endAt - report.startAt),
      attempts: report.attempt,
      ...(report.spawnError ? { error: report.spawnError } : {}),
      ...(report.leaked > 0 ? { leaked: report.leaked } : {}),
      outputBytes: report.outputBytes,
      ...(report.droppedBytes > 0 ? { droppedBytes: report.droppedBytes } : {}),
      log: { path: logFileName(report.lane), offset: report.logOffset, length: report.logLength },
      tail: report.tail,
      ...(report.subtests ? { subtests: report.subtests } : {}),
    }
  }

  /** Records an outcome no worker reported: a crash that ended the test, a stop before it ran. */
  settle(slot: number, status: Status, error: string | undefined, endAt: number): TestResult {
    const test = this.plan[slot] as PlanEntry
    const start = this.lastStart[slot]
    return this.put(slot, {
      id: test.id,
      file: test.file,
      worker: start ? this.workerName(start.lane) : null,
      status,
      exitCode: null,
      signal: null,
      startMs: start ? this.relMs(start.at) : null,
      endMs: start ? this.relMs(endAt) : null,
      durationMs: start ? round(endAt - start.at) : null,
      attempts: start?.attempt ?? 0,
      ...(error ? { error } : {}),
      outputBytes: 0,
      tail: '',
    })
  }

  private put(slot: number, result: TestResult): TestResult {
    if (this.results[slot]) throw new Error(`claimrun bug: a second outcome for ${result.id}`)
    const notes = this.notes[slot]
    if (notes) result.notes = notes
    const previous = this.previous[slot]
    if (previous?.length) result.previousAttempts = previous
    this.results[slot] = result
    // Its start is only needed until it has an outcome (a crash settles from it); not kept all run.
    this.lastStart[slot] = undefined
    return result
  }
}
