import { join } from 'node:path'
import type { Piscina } from 'piscina'
import { createPool } from '../lanes/pool.js'
import { cancelFree, createBoard, lanePid, slotsHeldBy, stop, type ClaimBoard } from '../claim/board.js'
import type { ClaimSource, StoreFault } from '../claim/claim-source.js'
import { encodePlan } from '../claim/plan-buffer.js'
import { ClaimrunError } from '../vocab/errors.js'
import type { ResolvedOptions } from '../options/resolve.js'
import type { PlanEntry } from '../vocab/protocol.js'
import { saveHistoryMerged, type History } from '../record/history.js'
import { exitCodeOf } from '../record/outcome.js'
import { Recorder } from '../record/recorder.js'
import { failOutputs, writeRunFiles } from '../reporters/run-files.js'
import { buildRunResult } from '../record/run-result.js'
import type { RunEvent, RunResult } from '../vocab/types.js'
import { endGroup, signalGroup } from '../util/process-group.js'
import { now, polledOnce, sleep } from '../util/time.js'
import type { RunContext } from '../lanes/context.js'
import { runLane } from '../lanes/lane.js'
import { logFileName } from '../vocab/names.js'
import { outcomesOf } from './closing-check.js'
import type { StartMessage } from '../vocab/protocol.js'
import type { WatchdogLink } from '../vocab/watchdog-link.js'
import { RunStateMachine } from './run-state.js'
import { storeFaultError } from '../store/store-fault.js'
import type { Watchdog } from '../watchdog/watchdog.js'
import { trace } from '../util/trace.js'
import { forkPathOfRun } from '../options/fork-path.js'
import type { NeedsBoard } from '../claim/groups.js'
import type { RunNeeds } from '../plan/needs.js'
import { describeNeeds } from '../lanes/needs-report.js'
import { needsBoardFor } from '../lanes/needs-board.js'

/**
 * One run on this machine: its lifecycle (run-state.ts) from start to the closing check that every
 * test has exactly one outcome. The lanes (lane.ts) run the tests; the host (host.ts) records them;
 * the claim source says where claims come from; this owns starting, stopping, reaping and finishing.
 */
export class Execution implements RunContext {
  readonly board: ClaimBoard
  readonly plan: SharedArrayBuffer
  readonly lanes: number
  readonly recorder: Recorder
  readonly t0 = now()
  readonly state = new RunStateMachine()
  readonly running = new Map<number, StartMessage>()
  stoppedBy: string | null = null
  pool!: Piscina
  /** A shared run whose store lost the run or stayed away too long: every test without an outcome is an error. */
  storeFault: (StoreFault & { at: number }) | null = null
  /** Who forks this run's tests, chosen once (src/options/fork-path.ts). */
  readonly forkPath: 'lane' | 'spawner'
  readonly needs: { plan: RunNeeds; board: NeedsBoard } | null
  private readonly slotOf: Map<string, number>
  /** The grace when stopping ends running tests: for a store fault, the fence's (shorter than the kill grace). */
  private reapGraceMs: number

  private readonly startedAt = new Date()
  private readonly deaths = new Map<number, number>()
  private readonly internalErrors: string[] = []
  private readonly announcedSlow = new Set<number>()
  private failures = 0
  private logFailureTold = false
  private bailed = false
  private forced = false
  /** Set when claimrun itself went wrong (a test without an outcome): the run exits 2, loudly. */
  private broken = false
  private markStopped!: () => void
  private readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve))

  constructor(
    readonly opts: ResolvedOptions,
    readonly tests: PlanEntry[],
    private readonly warnings: string[],
    private readonly history: History,
    readonly source: ClaimSource,
    /** The run's watchdog: made, and closed, by the run around this (it guards the setup and teardown too). */
    private readonly watchdog: Watchdog,
    plannedNeeds: RunNeeds | null = null,
  ) {
    // More threads than tests would only idle.
    this.lanes = Math.max(1, Math.min(opts.workers, tests.length))
    this.board = createBoard(tests.length, this.lanes)
    this.plan = encodePlan(tests)
    this.recorder = new Recorder(tests, (lane) => source.workerName(lane), this.t0)
    this.reapGraceMs = opts.killGraceMs
    this.forkPath = forkPathOfRun(opts.forkPath, tests.length)
    this.needs = plannedNeeds ? { plan: plannedNeeds, board: needsBoardFor(plannedNeeds, tests, this.lanes, history) } : null
    this.slotOf = this.needs ? new Map(tests.map((t, i) => [t.id, i])) : new Map()
  }

  get watchdogLink(): WatchdogLink {
    return this.watchdog.link
  }

  groupEnded(pgid: number): void {
    this.watchdog.tell({ t: 'end', pgid })
  }

  emit(event: RunEvent): void {
    if (this.needs && (event.type === 'test:end' || event.type === 'test:retry')) describeNeeds(this.needs, this.slotOf.get(event.test.id) ?? -1, event.test)
    try {
      this.opts.onEvent?.(event)
    } catch (err) {
      // A reporter never changes a result, and never stops a run.
      this.internalErrors.push(`onEvent threw on ${event.type}: ${(err as Error)?.message ?? err}`)
    }
  }

  fault(message: string): void {
    this.broken = true
    this.internalErrors.push(message)
  }

  problem(message: string): void {
    this.internalErrors.push(message)
  }

  logFailed(lane: number, code: string): void {
    if (this.logFailureTold) return
    this.logFailureTold = true
    const why = code === 'ENOSPC' ? 'ENOSPC: the disk is full' : code === 'EDQUOT' ? 'EDQUOT: the disk quota is used up' : code === 'EFBIG' ? 'EFBIG: the file size limit is reached' : code
    const message = `could not write ${join(this.opts.out, logFileName(lane))} (${why}): some test output is missing from it; every test keeps its outcome`
    this.warnings.push(message)
    this.emit({ type: 'run:warning', message })
  }

  failed(): void {
    this.failures++
    if (this.opts.bail > 0 && this.failures >= this.opts.bail) this.bail()
  }

  async run(): Promise<RunResult> {
    const names = Array.from({ length: this.lanes }, (_, i) => this.source.workerName(i + 1))
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

    trace('execution: run')
    let threadsEnded: Promise<void> = Promise.resolve()
    let ran = false
    try {
      this.pool = createPool(this.lanes, this.opts.testOnlyWorker, this.opts.env)
      try {
        await this.runLanes(names)
        ran = true
      } finally {
        // Every lane has returned (or none started), so the threads hold nothing: they are ended while
        // the run's files are written, not before; or left to the exit, when the process ends next
        // (idle threads, which piscina unrefs, keep no process alive).
        if (!this.opts.exitsAfter) threadsEnded = this.pool.destroy()
      }
    } finally {
      // The watchdog is closed by the run around this, after the teardown (see run.ts).
      signal?.removeEventListener('abort', onAbort)
      forceSignal?.removeEventListener('abort', onForce)
      // The run failed (its claim source could not start, say): its threads end before its error is
      // told, and that error is the one told, not one of theirs.
      if (!ran) await threadsEnded.catch(() => {})
    }
    try {
      return this.finish(names)
    } finally {
      await threadsEnded
    }
  }

  /** Starts the claim source, the lanes and the watchdog; resolves once every lane has returned and the reaper with them. */
  private async runLanes(names: string[]): Promise<void> {
    this.pool.on('error', (err: Error) => this.internalErrors.push(`worker pool: ${err.message}`))
    this.source.start({
      leaseLost: (slot) => this.recorder.note(slot, 'lease lost while running (renewal refused); the store may give it to another worker'),
      storeFailed: (fault) => this.storeFailed(fault),
      fence: (by, graceMs) => this.watchdog.tell({ t: 'fence', by, graceMs }),
    })
    const slowWatch = setInterval(() => this.announceSlow(), Math.min(1000, this.opts.slowMs / 4))
    slowWatch.unref()
    // Only now, with nothing left that can fail or wait before the lanes start (see openSocket).
    if (this.forkPath === 'spawner') this.watchdog.openSocket()
    // Forked before the lanes get their tasks: most runs get here while their threads still boot (a
    // thread takes longer here than the rest of the CLI takes to load), so the fork delays no lane,
    // where after the tasks it came between a booted lane and its first test. No lane forks a test
    // before this says it has started (awaitWatchdog in the worker), so none starts unguarded.
    this.watchdog.start(() => this.runningGroups())
    // The lanes wait for the spawner before their first test: it boots now, while their threads do.
    if (this.forkPath === 'spawner') this.watchdog.boot()
    // A stop signal that came while the CLI started up (the main thread may not have let Node
    // read it yet: everything from its arming to here can run without a turn of the event loop)
    // stops the run now, before any lane can claim a test: every test is then `notrun`. On a loaded
    // machine its threads may have booted by now, so they would claim at once.
    await polledOnce()
    let lanesDone = false
    const lanes = Promise.all(names.map((_, i) => runLane(this, i + 1, this.deaths))).finally(() => {
      lanesDone = true
      this.source.stop()
      clearInterval(slowWatch)
    })
    trace('execution: lanes started, watchdog spawned')
    const reaper = Promise.race([this.stopped, lanes]).then(() => this.reap(() => lanesDone))
    try {
      await lanes
    } catch (err) {
      // Not a test's fault and not a worker death (those are handled per lane): stop, and say so.
      this.fault(`run failed: ${(err as Error)?.message ?? err}`)
      this.interrupt('internal error')
    } finally {
      trace('execution: lanes done')
      await reaper
    }
  }

  /** Stops claiming, takes every unclaimed test away, and ends the running ones (see reap). */
  private interrupt(reason: string): void {
    if (!this.state.to('stopping')) return
    this.stoppedBy = reason
    stop(this.board)
    cancelFree(this.board)
    this.emit({ type: 'run:interrupt', reason })
    this.markStopped()
  }

  /** `--bail`: stop claiming; what runs finishes normally (unlike an interrupt, nothing is ended). */
  private bail(): void {
    if (!this.state.to('bailed')) return
    this.bailed = true
    stop(this.board)
    cancelFree(this.board)
    this.emit({ type: 'run:bail', failures: this.failures })
  }

  /** The test process group each lane runs now (for a watchdog that starts after them). */
  private runningGroups(): Array<{ pgid: number; id: string }> {
    const groups: Array<{ pgid: number; id: string }> = []
    for (let lane = 1; lane <= this.lanes; lane++) {
      const pgid = lanePid(this.board, lane)
      const slot = pgid ? slotsHeldBy(this.board, lane)[0] : undefined
      if (pgid) groups.push({ pgid, id: slot === undefined ? '?' : (this.tests[slot] as PlanEntry).id })
    }
    return groups
  }

  /** The store lost the run, or stayed out of reach past the window: stop now, ending running tests within the fence. */
  private storeFailed(fault: StoreFault): void {
    if (this.storeFault) return
    this.storeFault = { ...fault, at: now() }
    this.reapGraceMs = Math.min(this.opts.killGraceMs, this.source.fenceGraceMs ?? this.opts.killGraceMs)
    this.interrupt(fault.kind === 'lost' ? 'the store lost the run' : 'the store is unreachable')
  }

  private force(): void {
    this.forced = true
    for (let lane = 1; lane <= this.lanes; lane++) {
      const pid = lanePid(this.board, lane)
      if (pid) signalGroup(pid, 'SIGKILL')
    }
  }

  private announceSlow(): void {
    const t = now()
    for (const [slot, start] of this.running) {
      if (t - start.at < this.opts.slowMs || this.announcedSlow.has(slot)) continue
      this.announcedSlow.add(slot)
      this.emit({ type: 'test:slow', test: (this.tests[slot] as PlanEntry).id, worker: this.source.workerName(start.lane), elapsedMs: Math.round(t - start.at) })
    }
  }

  /**
   * While lanes are still running after a stop, ends the process group of each test they hold.
   * It polls the pids in shared memory, so a test spawned in the instant after the stop is
   * caught on the next turn, not missed.
   */
  private async reap(lanesDone: () => boolean): Promise<void> {
    const ending = new Set<number>()
    const endings: Promise<void>[] = []
    while (!lanesDone()) {
      for (let lane = 1; lane <= this.lanes; lane++) {
        const pid = lanePid(this.board, lane)
        if (pid && !ending.has(pid)) {
          ending.add(pid)
          endings.push(endGroup(pid, this.forced ? 0 : this.reapGraceMs))
        }
      }
      await sleep(20)
    }
    await Promise.all(endings)
  }

  private get order(): RunResult['order'] {
    return this.opts.order === 'random' ? { mode: 'random', seed: this.opts.seed } : { mode: this.opts.order }
  }

  private get shardField(): { shard?: string } {
    return this.opts.shard ? { shard: `${this.opts.shard.index}/${this.opts.shard.total}` } : {}
  }

  /** Every test's one outcome (the closing check), the run's files, the history. */
  private finish(workers: string[]): RunResult {
    trace('finish: start')
    this.state.to('finishing')
    if (this.source.accountsForAll) cancelFree(this.board)
    const tests = outcomesOf(this)
    if (this.needs) for (const t of tests) if (t.weight === undefined) describeNeeds(this.needs, this.slotOf.get(t.id) ?? -1, t)
    const result = buildRunResult({
      startedAt: this.startedAt.toISOString(),
      durationMs: Math.round((now() - this.t0) * 10) / 10,
      workers,
      tests,
      order: this.order,
      shard: this.shardField.shard,
      bailed: this.bailed,
      interrupted: this.storeFault ? undefined : (this.stoppedBy ?? undefined),
      warnings: this.warnings,
      internalErrors: this.internalErrors,
      exitCode: this.broken || this.storeFault ? 2 : exitCodeOf(tests, this.stoppedBy ?? undefined, this.opts.failOnFlaky),
      out: this.opts.out,
    })
    if (this.storeFault) result.storeError = this.storeFault.reason
    // History first: a failure to save it is an output error, which results.json must record.
    if (this.opts.history) {
      try {
        saveHistoryMerged(this.opts.history, tests, result.startedAt)
      } catch (err) {
        failOutputs(result, [`could not save --history ${this.opts.history} (${(err as Error).message})`])
      }
    }
    trace('finish: history saved')
    writeRunFiles(result, { cwd: this.opts.cwd, html: this.opts.html, json: this.opts.json, junit: this.opts.junit })
    if (this.internalErrors.length > 0) result.internalErrors = this.internalErrors
    trace('finish: files written')
    this.state.to('finished')
    this.emit({ type: 'run:end', result })
    if (this.storeFault && !this.broken) throw storeFaultError(this.storeFault, result)
    if (this.broken) {
      throw new ClaimrunError('CLAIMRUN_INTERNAL', `claimrun went wrong (${this.internalErrors.join('; ')}); results.json marks it as error`, { cause: result })
    }
    return result
  }
}
