import type { Claim, ClaimSource, LocalFit, SourceHooks, StoreFault } from '../claim/claim-source.js'
import { laneName } from '../vocab/names.js'
import type { TestResult } from '../vocab/types.js'
import { monotonicMs, sleep } from '../util/time.js'
import { StoreLostError, redacted, type RedisStore } from './redis-store.js'
import { toStored } from './stored-outcome.js'
import { plural } from '../util/plural.js'

/**
 * The claim source of a run shared through a store: this process's side of it. The main thread
 * claims for its workers (one atomic round trip per claim), holds the leases (slot → fencing token),
 * a heartbeat that renews them and keeps the run's keys alive, claims that wait while other
 * machines hold the last tests (one of them may die, and its lease lapse back to us), and the
 * self-fence.
 *
 * The self-fence: a lease taken or confirmed by a round trip sent at time t cannot pass to another
 * node before t + lease (the store counts from when it got the request, which is later). So if no
 * renewal has succeeded for half the lease, this runner gives up on the store: it ends its running
 * tests (with a grace of at most a fifth of the lease) well before anyone else can take them, and
 * stops. The same half lease is the reconnect window for everything else (a claim, a result).
 * Times are on CLOCK_MONOTONIC; the only clock assumption is that the store's clock and ours run at
 * the same rate (a clock stepped forward on the store's host could end a lease early).
 */
export class SharedClaims implements ClaimSource {
  readonly claimsInWorker = false
  readonly accountsForAll = false
  private readonly held = new Map<number, { token: number; since: number }>()
  private heartbeat: NodeJS.Timeout | undefined
  private beating = false
  private lastBeat = 0
  /** Send time of the last round trip that succeeded (any), and of the last renewal of everything held. */
  private lastOk = monotonicMs()
  private confirmedAt = monotonicMs()
  private lastFence: number | null = null
  fault: StoreFault | null = null
  /** Set once the store said that every planned test has an outcome. */
  complete = false

  private hooks: SourceHooks = { leaseLost: () => {} }

  constructor(
    readonly store: RedisStore,
    readonly node: string,
    private readonly planSize: number,
  ) {}

  /** Half the lease: how long the store may be out of reach before this runner stops. */
  get windowMs(): number {
    return this.store.leaseMs / 2
  }

  /** The kill grace when the fence ends tests: what is left of the lease must cover it. */
  get fenceGraceMs(): number {
    return this.store.leaseMs / 5
  }

  private get poll(): number {
    return Math.min(1000, Math.max(50, this.store.leaseMs / 6))
  }

  workerName(lane: number): string {
    return `${this.node}/${laneName(lane)}`
  }

  /** A shared run's lanes end when the store has nothing left, which only claiming can tell. */
  moreToClaim(): boolean {
    return true
  }

  /** Every planned test has an outcome in the store (so what was not run here ran elsewhere). */
  doneEverywhere(): boolean {
    return this.complete
  }

  start(hooks: SourceHooks): void {
    this.hooks = hooks
    this.lastOk = this.confirmedAt = monotonicMs()
    // Checked often (the fence must act before the watchdog's, a tenth of the lease later); the
    // store is asked every sixth of the lease, and at least every third of the TTL.
    this.heartbeat = setInterval(() => this.check(), Math.max(10, Math.min(this.store.leaseMs / 20, 250)))
    this.heartbeat.unref()
  }

  stop(): void {
    clearInterval(this.heartbeat)
    this.hooks.fence?.(null, 0)
  }

  /** The moment the earliest held lease stops being known to be ours, plus the window; null if none is held. */
  private fenceAt(): number | null {
    let earliest: number | null = null
    for (const { since } of this.held.values()) {
      const from = Math.max(since, this.confirmedAt)
      if (earliest === null || from < earliest) earliest = from
    }
    return earliest === null ? null : earliest + this.windowMs
  }

  private get beatEvery(): number {
    return Math.max(20, Math.min(this.store.leaseMs / 6, 1000, (this.store.ttlS * 1000) / 3))
  }

  /**
   * Whether the store is still with us: false (and the fault raised) once no round trip has
   * succeeded for the window, or a held lease is past its fence. Also run before a test's outcome
   * is judged, so a test that the fence (or the watchdog) ended is never taken for a failure.
   */
  check(): boolean {
    if (this.fault) return false
    const t = monotonicMs()
    const fence = this.fenceAt()
    if (t - this.lastOk > this.windowMs || (fence !== null && t > fence)) {
      const since = Math.round((t - Math.min(this.lastOk, fence === null ? t : fence - this.windowMs)) / 100) / 10
      this.fail({ kind: 'unreachable', reason: `the store at ${redacted(this.store.url)} did not answer for ${since} s (more than half of --lease ${this.store.leaseMs / 1000} s)` })
      return false
    }
    if (!this.beating && t - this.lastBeat >= this.beatEvery) void this.renew()
    return true
  }

  private fail(fault: StoreFault): void {
    if (this.fault) return
    this.fault = fault
    clearInterval(this.heartbeat)
    this.hooks.storeFailed?.(fault)
  }

  /** A store call that failed: a lost run is final; anything else is retried within the window. */
  private failed(err: unknown): void {
    if (err instanceof StoreLostError) this.fail({ kind: 'lost', reason: err.message })
  }

  /** Tells the watchdog the fence after every confirmation; it enforces it a tenth of the lease later, should we hang. */
  private updateFence(): void {
    const fence = this.fenceAt()
    const by = fence === null ? null : fence + this.store.leaseMs / 10
    if (by === this.lastFence) return
    this.lastFence = by
    this.hooks.fence?.(by, this.fenceGraceMs)
  }

  private async renew(): Promise<void> {
    this.beating = true
    this.lastBeat = monotonicMs()
    const held = [...this.held].map(([slot, { token }]) => ({ slot, token }))
    const sent = monotonicMs()
    try {
      const ok = await this.store.renew(held)
      if (this.fault) return
      this.lastOk = this.confirmedAt = sent
      held.forEach((h, k) => {
        if (!ok[k] && this.held.get(h.slot)?.token === h.token) this.hooks.leaseLost(h.slot)
      })
      this.updateFence()
    } catch (err) {
      this.failed(err) // away for now: the next beat tries again, and the window decides
    } finally {
      this.beating = false
    }
  }

  /**
   * The next test for `worker` whose needs `fit` here (and whose run-wide groups have room), or null
   * once every test of the run has an outcome (or we stop). While nothing fits, it asks again when
   * a test ends here or every poll (a lease elsewhere may lapse, a group elsewhere come free).
   */
  async claim(worker: string, stopped: () => boolean, fit?: LocalFit): Promise<Claim | null> {
    for (;;) {
      if (stopped() || this.fault) return null
      const sent = monotonicMs()
      let answer
      try {
        answer = await this.store.claim(worker, fit?.mask() ?? '')
      } catch (err) {
        this.failed(err)
        await sleep(this.poll)
        continue
      }
      this.lastOk = Math.max(this.lastOk, sent)
      if (answer.slot >= 0 && 'token' in answer) {
        fit?.took(answer.slot, answer.waited)
        this.held.set(answer.slot, { token: answer.token, since: sent })
        this.updateFence()
        return { slot: answer.slot, attempt: answer.attempt }
      }
      const { finished, leased, free } = answer as { finished: number; leased: number; free: number }
      // Finished means every planned test has an outcome, never just "nothing free here".
      if (finished >= this.planSize) {
        this.complete = true
        return null
      }
      if (leased === 0 && free === 0) {
        this.fail({ kind: 'lost', reason: `the store lost part of run ${this.store.runId}: nothing is free or running, yet only ${finished} of ${plural(this.planSize, 'test')} have an outcome` })
        return null
      }
      await (fit ? fit.released(this.poll) : sleep(this.poll))
    }
  }

  /**
   * Publishes an outcome under this process's lease; false when the lease had been taken over, or
   * the store could not be reached within the window (see `fault`). Retried meanwhile, with the
   * lease still renewed, so a short outage loses nothing.
   */
  async publish(slot: number, result: TestResult, t0: number): Promise<boolean> {
    const outcome = toStored(result, t0, this.node)
    const lease = this.held.get(slot)
    if (!lease) return false
    try {
      while (!this.fault) {
        const sent = monotonicMs()
        try {
          const accepted = await this.store.finish(slot, lease.token, outcome)
          this.lastOk = Math.max(this.lastOk, sent)
          return accepted
        } catch (err) {
          this.failed(err)
          if (!this.fault) await sleep(this.poll)
        }
      }
      return false
    } finally {
      this.held.delete(slot)
      this.updateFence()
    }
  }

  /** Gives a held test back to the run at once (a worker died here, or this process is stopping). */
  async release(slot: number): Promise<void> {
    const lease = this.held.get(slot)
    this.held.delete(slot)
    this.updateFence()
    if (lease !== undefined && !this.fault) await this.store.release(slot, lease.token).catch((err: unknown) => this.failed(err))
  }
}
