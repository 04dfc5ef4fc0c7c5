import { once } from 'node:events'
import { join } from 'node:path'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { expose } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import type { Piscina } from 'piscina'
import {
  cancelFree, createBoard, doneCount, isStopped, lanePid, markDone, release, requeue, setLanePid, slotsHeldBy, slotState, stop, takeForLane,
  type ClaimBoard,
} from '../claim/board.js'
import { ClaimrunError } from '../errors.js'
import { mergeHistory, saveHistory, type History } from '../record/history.js'
import type { ResolvedOptions } from '../options/resolve.js'
import type { PlanEntry } from '../plan/plan.js'
import { endGroup, signalGroup } from '../util/process-group.js'
import type { EndReport, Host, StartReport, WorkerTask } from './protocol.js'
import { Recorder } from '../record/recorder.js'
import { countStatuses, exitCodeOf, statusOfEnd } from '../record/outcome.js'
import { writeRunFiles } from '../record/run-files.js'
import { laneName, logFileName } from './names.js'
import { encodePlan } from '../claim/plan-buffer.js'
import { createPool } from './pool.js'
import { now, sleep } from '../util/time.js'
import type { RemoteClaims } from '../store/shared-claims.js'
import { type RunEvent, type RunResult, type Status, type TestResult } from '../types.js'
import { withNotes, type LaneNote } from './notes.js'

/** A test whose run kills its worker this many times ends as `error` instead of being run again. */
const MAX_WORKER_DEATHS = 2
const LOST_TEST = 'claimrun lost this test: a runner bug, please report it'


/**
 * One run on this machine: N worker lanes claiming from the board (or, in a shared run, from the
 * store through the main thread), every outcome recorded once, crashes and interrupts handled, and
 * the closing check that every test has exactly one outcome.
 */
export class Execution {
  private readonly board: ClaimBoard
  private readonly plan: SharedArrayBuffer
  private readonly lanes: number
  private readonly recorder: Recorder
  private readonly t0 = now()
  private readonly startedAt = new Date()
  private readonly deaths = new Map<number, number>()
  private readonly internalErrors: string[] = []
  private pool!: Piscina
  private stoppedBy: string | null = null
  private bailed = false
  private failures = 0
  private forced = false
  private lanesDone = false

  /** `worker01`, or `<node>/worker01` in a run shared through a store. */
  private readonly workerName = (lane: number): string => (this.remote ? `${this.remote.node}/` : '') + laneName(lane)

  /** Set when claimrun itself went wrong (a test without an outcome): the run exits 2, loudly. */
  private broken = false

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly tests: PlanEntry[],
    private readonly warnings: string[],
    private readonly history: History,
    private readonly remote: RemoteClaims | null,
  ) {
    // More threads than tests would only idle.
    this.lanes = Math.max(1, Math.min(opts.workers, tests.length))
    this.board = createBoard(tests.length, this.lanes)
    this.plan = encodePlan(tests)
    this.recorder = new Recorder(tests, this.workerName, this.t0)
    if (remote) remote.onLost = (slot) => this.leaseLost(slot)
  }

  private emit(event: RunEvent): void {
    try {
      this.opts.onEvent?.(event)
    } catch (err) {
      // A reporter never changes a result, and never stops a run.
      this.internalErrors.push(`onEvent threw on ${event.type}: ${(err as Error)?.message ?? err}`)
    }
  }

  async run(): Promise<RunResult> {
    const names = Array.from({ length: this.lanes }, (_, i) => this.workerName(i + 1))
    const known = this.tests.filter((t) => this.history.tests[t.id])
    const estimates = known.length ? { estimates: Object.fromEntries(known.map((t) => [t.id, this.history.tests[t.id]?.avgMs ?? 0])) } : {}
    this.emit({ type: 'run:start', startedAt: this.startedAt.toISOString(), tests: this.tests.length, workers: names, out: this.opts.out, order: this.order, ...this.shardField, ...estimates })
    for (const message of this.warnings) this.emit({ type: 'run:warning', message })
    const { signal, forceSignal } = this.opts
    const onAbort = (): void => this.interrupt(typeof signal?.reason === 'string' ? signal.reason : 'abort')
    const onForce = (): void => this.force()
    signal?.addEventListener('abort', onAbort)
    forceSignal?.addEventListener('abort', onForce)
    if (signal?.aborted) onAbort()

    this.pool = createPool(this.lanes, this.opts.die?.how === 'oom', this.opts.env)
    this.pool.on('error', (err: Error) => this.internalErrors.push(`worker pool: ${err.message}`))
    this.remote?.start()
    const slowWatch = setInterval(() => this.announceSlow(), Math.min(1000, this.opts.slowMs / 4))
    slowWatch.unref()
    const lanes = Promise.all(names.map((_, i) => this.runLane(i + 1))).finally(() => {
      this.lanesDone = true
      this.remote?.stop()
      clearInterval(slowWatch)
    })
    const reaper = Promise.race([this.stopped, lanes]).then(() => this.reap())
    try {
      await lanes
    } catch (err) {
      // Not a test's fault and not a worker death (those are handled per lane): stop, and say so.
      this.fault(`run failed: ${(err as Error)?.message ?? err}`)
      this.interrupt('internal error')
    } finally {
      await reaper
      await this.pool.destroy()
      signal?.removeEventListener('abort', onAbort)
      forceSignal?.removeEventListener('abort', onForce)
    }
    return this.finish(names)
  }

  private markStopped!: () => void
  private readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve))

  /** Stops claiming, takes every unclaimed test away, and ends the running ones (see reap). */
  private interrupt(reason: string): void {
    if (this.stoppedBy) return
    this.stoppedBy = reason
    stop(this.board)
    cancelFree(this.board)
    this.emit({ type: 'run:interrupt', reason })
    this.markStopped()
  }

  private readonly running = new Map<number, StartReport>()
  private readonly announcedSlow = new Set<number>()

  private announceSlow(): void {
    const t = now()
    for (const [slot, start] of this.running) {
      if (t - start.at < this.opts.slowMs || this.announcedSlow.has(slot)) continue
      this.announcedSlow.add(slot)
      this.emit({ type: 'test:slow', test: (this.tests[slot] as PlanEntry).id, worker: this.workerName(start.lane), elapsedMs: Math.round(t - start.at) })
    }
  }

  private get order(): RunResult['order'] {
    return this.opts.order === 'random' ? { mode: 'random', seed: this.opts.seed } : { mode: this.opts.order }
  }

  private get shardField(): { shard?: string } {
    return this.opts.shard ? { shard: `${this.opts.shard.index}/${this.opts.shard.total}` } : {}
  }

  /** `--bail`: stop claiming; what runs finishes normally (unlike an interrupt, nothing is ended). */
  private bail(): void {
    if (this.bailed || this.stoppedBy) return
    this.bailed = true
    stop(this.board)
    cancelFree(this.board)
    this.emit({ type: 'run:bail', failures: this.failures })
  }

  private force(): void {
    this.forced = true
    for (let lane = 1; lane <= this.lanes; lane++) {
      const pid = lanePid(this.board, lane)
      if (pid) signalGroup(pid, 'SIGKILL')
    }
  }

  /**
   * While lanes are still running after a stop, ends the process group of each test they hold.
   * It polls the pids in shared memory, so a test spawned in the instant after the stop is
   * caught on the next turn, not missed.
   */
  private async reap(): Promise<void> {
    const ending = new Set<number>()
    const endings: Promise<void>[] = []
    while (!this.lanesDone) {
      for (let lane = 1; lane <= this.lanes; lane++) {
        const pid = lanePid(this.board, lane)
        if (pid && !ending.has(pid)) {
          ending.add(pid)
          endings.push(endGroup(pid, this.forced ? 0 : this.opts.killGraceMs))
        }
      }
      await sleep(20)
    }
    await Promise.all(endings)
  }

  private task(lane: number, port: MessagePort): WorkerTask {
    return {
      lane,
      name: this.workerName(lane),
      board: this.board.buffer,
      lanes: this.lanes,
      plan: this.plan,
      port,
      cwd: this.opts.cwd,
      logFile: join(this.opts.out, logFileName(lane)),
      remote: this.remote !== null,
      timeoutMs: this.opts.timeoutMs,
      killGraceMs: this.opts.killGraceMs,
      maxOutputBytes: this.opts.maxOutput,
      tap: this.opts.tap,
      ...(this.opts.die ? { die: this.opts.die } : {}),
    }
  }

  private host(lane: number): Host {
    return {
      testStarted: (report: StartReport) => {
        this.recorder.started(report)
        this.running.set(report.slot, report)
        const test = this.tests[report.slot] as PlanEntry
        this.emit({ type: 'test:start', test: test.id, worker: this.workerName(lane), attempt: report.attempt, atMs: this.recorder.relMs(report.at) })
      },
      claim: async () => {
        const remote = this.remote
        if (!remote || isStopped(this.board)) return null
        const claim = await remote.claim(this.workerName(lane), () => isStopped(this.board))
        if (!claim) return null
        if (this.recorder.has(claim.slot)) this.recorder.forget(claim.slot, 'an earlier outcome from this process was not accepted by the store')
        takeForLane(this.board, claim.slot, lane)
        return { slot: claim.slot, attempt: claim.attempt }
      },
      flush: () => {},
      testFinished: async (report: EndReport) => {
        this.running.delete(report.slot)
        if (this.remote) return this.finishRemote(report, lane)
        if (report.notRun) {
          const result = this.recorder.settleFromLastAttempt(report.slot) ?? this.recorder.settle(report.slot, 'notrun', undefined, report.endAt)
          markDone(this.board, report.slot, lane)
          this.emit({ type: 'test:end', test: result })
          return
        }
        let status = this.statusOf(report)
        if ((status === 'failed' || status === 'timedout') && report.attempt <= this.opts.retries && !isStopped(this.board)) {
          const attempt = this.recorder.retrying(report, status)
          requeue(this.board, report.slot, lane)
          this.emit({ type: 'test:retry', test: attempt })
          return
        }
        if (status === 'passed' && this.recorder.failedBefore(report.slot)) status = 'flaky'
        const result = this.recorder.finished(report, status)
        markDone(this.board, report.slot, lane)
        this.emit({ type: 'test:end', test: result })
        if (status === 'failed' || status === 'timedout' || status === 'error') {
          this.failures++
          if (this.opts.bail > 0 && this.failures >= this.opts.bail) this.bail()
        }
      },
    }
  }

  /** A note is not a call: nobody waits for it, so whatever goes wrong handling it is a claimrun fault. */
  private onNote(host: Host, note: LaneNote): void {
    try {
      if (note.note === 'started') host.testStarted(note.report)
      else void Promise.resolve(host.testFinished(note.report)).catch((err: unknown) => this.fault(`recording a result failed: ${(err as Error)?.message ?? err}`))
    } catch (err) {
      this.fault(`recording a start failed: ${(err as Error)?.message ?? err}`)
    }
  }

  /** A lease renewed too late: the test may already run elsewhere, and our result will be fenced. */
  private leaseLost(slot: number): void {
    this.recorder.note(slot, 'lease lost while running (renewal refused); the store may give it to another worker')
  }

  /**
   * In a shared run the store decides: the outcome is published under our lease, and only if the
   * store accepts it is it this run's outcome. A stopping process hands its tests back instead.
   */
  private async finishRemote(report: EndReport, lane: number): Promise<void> {
    const remote = this.remote as RemoteClaims
    if (this.stoppedBy || report.notRun) {
      await remote.release(report.slot)
      const result = this.recorder.settle(report.slot, report.notRun ? 'notrun' : 'interrupted', 'handed back to the shared run', report.endAt)
      markDone(this.board, report.slot, lane)
      this.emit({ type: 'test:end', test: result })
      return
    }
    const result = this.recorder.finished(report, this.statusOf(report))
    markDone(this.board, report.slot, lane)
    const accepted = await remote.finish(report.slot, this.shared(result)).catch((err: Error) => {
      this.internalErrors.push(`could not publish ${result.id}: ${err.message}`)
      return false
    })
    if (!accepted) result.notes = [...(result.notes ?? []), 'not accepted by the store (its lease had passed to another worker)']
    this.emit({ type: 'test:end', test: result })
  }

  /** An outcome as the store keeps it: absolute times (machines' runs start apart), no local paths. */
  private shared(result: TestResult): object {
    const { file: _file, ...rest } = result
    const at = (ms: number | null): number | null => (ms === null ? null : Math.round(this.t0 + ms))
    return { ...rest, node: this.remote?.node, startAt: at(result.startMs), endAt: at(result.endMs) }
  }

  private statusOf(report: EndReport): Status {
    return statusOfEnd({ ...report, tapProblems: report.subtests?.problems }, this.stoppedBy !== null)
  }


  /** One lane: a long-lived task on one thread; if the thread dies, its claim is dealt with and a replacement carries on. */
  private async runLane(lane: number): Promise<void> {
    for (;;) {
      const { port1, port2 } = new MessageChannel()
      const portClosed = once(port1, 'close')
      const host = this.host(lane)
      expose(host, withNotes(nodeEndpoint(port1), (note) => this.onNote(host, note)))
      try {
        await this.pool.run(this.task(lane, port2), { transferList: [port2] })
        this.afterExit(lane)
        return
      } catch (err) {
        await this.afterDeath(lane, err, portClosed)
        // A shared run's lanes end when the store has nothing left, which only claiming can tell.
        if (isStopped(this.board) || (!this.remote && doneCount(this.board) >= this.tests.length)) return
      } finally {
        port1.close()
      }
    }
  }

  private fault(message: string): void {
    this.broken = true
    this.internalErrors.push(message)
  }

  /**
   * A lane's task returned. It must hold no claim now; if it does (a claimrun bug), the test is
   * settled as an error at once, so the lanes still waiting for it are not left waiting forever.
   */
  private afterExit(lane: number): void {
    for (const slot of slotsHeldBy(this.board, lane)) {
      const id = (this.tests[slot] as PlanEntry).id
      this.fault(`${this.workerName(lane)} finished while still holding ${id}`)
      const result = this.recorder.settle(slot, 'error', LOST_TEST, now())
      markDone(this.board, slot, lane)
      this.emit({ type: 'test:end', test: result })
    }
  }

  /**
   * A worker thread died. Its test's process group is ended first, then we wait until the thread's
   * end of the port has closed (the thread is gone, and every report it sent has been handled), and
   * only then is its claim handed back: so the test can never run twice at once.
   */
  private async afterDeath(lane: number, err: unknown, portClosed: Promise<unknown>): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err)
    const pid = lanePid(this.board, lane)
    if (pid) await endGroup(pid, 0)
    await Promise.race([portClosed, sleep(10_000)])
    await new Promise((r) => setImmediate(r))
    setLanePid(this.board, lane, 0)
    const held = slotsHeldBy(this.board, lane)
    if (held.length === 0) this.emit({ type: 'worker:crash', worker: this.workerName(lane), test: null, reason })
    for (const slot of held) {
      const test = this.tests[slot] as PlanEntry
      const deaths = (this.deaths.get(slot) ?? 0) + 1
      this.deaths.set(slot, deaths)
      const attempt = this.recorder.startOf(slot)?.attempt ?? 1
      this.emit({ type: 'worker:crash', worker: this.workerName(lane), test: test.id, reason })
      this.recorder.note(slot, `attempt ${attempt}: ${this.workerName(lane)} died while running it (${reason})`)
      if (this.stoppedBy || deaths >= MAX_WORKER_DEATHS) {
        const status: Status = this.stoppedBy ? 'interrupted' : 'error'
        const result = this.recorder.settle(slot, status, `its worker thread died ${deaths} times: ${reason}`, now())
        markDone(this.board, slot, lane)
        if (this.remote && status === 'error') await this.remote.finish(slot, this.shared(result)).catch(() => false)
        else if (this.remote) await this.remote.release(slot)
        this.emit({ type: 'test:end', test: result })
      } else {
        release(this.board, slot, lane)
        await this.remote?.release(slot)
      }
    }
  }

  private finish(workers: string[]): RunResult {
    if (!this.remote) cancelFree(this.board)
    const tests: TestResult[] = []
    for (let slot = 0; slot < this.tests.length; slot++) {
      let result = this.recorder.get(slot)
      // In a shared run this process accounts for the tests it took; `claimrun report` for the rest.
      if (this.remote && !result && !this.recorder.startOf(slot) && slotState(this.board, slot).state === 'free') continue
      if (!result) {
        const state = slotState(this.board, slot)
        if (state.state === 'cancelled') {
          result = this.recorder.settleFromLastAttempt(slot) ?? this.recorder.settle(slot, 'notrun', undefined, now())
        } else {
          this.fault(`${(this.tests[slot] as PlanEntry).id} has no outcome (slot ${state.state})`)
          result = this.recorder.settle(slot, 'error', LOST_TEST, now())
        }
      }
      tests.push(result)
    }
    const counts = countStatuses(tests)
    // The closing check: one outcome per discovered test, or claimrun itself is wrong.
    const outcomes = Object.values(counts).reduce((a, b) => a + b, 0)
    if (!this.remote && outcomes !== this.tests.length) this.fault(`${outcomes} outcomes for ${this.tests.length} tests`)
    const lost = this.broken
    const exitCode = lost ? 2 : exitCodeOf(tests, this.stoppedBy ?? undefined, this.opts.failOnFlaky)
    const result: RunResult = {
      version: 1,
      startedAt: this.startedAt.toISOString(),
      durationMs: Math.round((now() - this.t0) * 10) / 10,
      workers,
      tests,
      counts,
      order: this.order,
      ...this.shardField,
      ...(this.bailed ? { bailed: true } : {}),
      ...(this.stoppedBy ? { interrupted: this.stoppedBy } : {}),
      ...(this.warnings.length > 0 ? { warnings: this.warnings } : {}),
      ...(this.internalErrors.length > 0 ? { internalErrors: this.internalErrors } : {}),
      exitCode,
      out: this.opts.out,
    }
    this.internalErrors.push(...writeRunFiles(result, { cwd: this.opts.cwd, html: this.opts.html, json: this.opts.json, junit: this.opts.junit }))
    if (this.internalErrors.length > 0) result.internalErrors = this.internalErrors
    if (this.opts.history) {
      try {
        saveHistory(this.opts.history, mergeHistory(this.history, tests, result.startedAt))
      } catch (err) {
        this.internalErrors.push(`could not save history ${this.opts.history}: ${(err as Error).message}`)
      }
    }
    this.emit({ type: 'run:end', result })
    if (lost) {
      throw new ClaimrunError('CLAIMRUN_INTERNAL', `claimrun went wrong (${this.internalErrors.join('; ')}); results.json marks it as error`, { cause: result })
    }
    return result
  }
}
