import type { Claim, ClaimSource, SourceHooks } from '../claim/claim-source.js'
import { laneName } from '../lanes/names.js'
import type { TestResult } from '../types.js'
import { sleep } from '../util/time.js'
import type { RedisStore } from './redis-store.js'
import { toStored } from './stored-outcome.js'

/**
 * The claim source of a run shared through a store: this process's side of it. The main thread
 * claims for its workers (one atomic round trip per claim), holds the leases (slot → fencing token)
 * and renews them every third of the lease while their tests run; claims wait while other machines
 * hold the last tests (one of them may die, and its lease lapse back to us).
 */
export class SharedClaims implements ClaimSource {
  readonly claimsInWorker = false
  readonly accountsForAll = false
  private readonly held = new Map<number, number>()
  private renewal: NodeJS.Timeout | undefined
  private hooks: SourceHooks = { leaseLost: () => {} }

  constructor(
    readonly store: RedisStore,
    readonly node: string,
    private readonly planSize: number,
  ) {}

  workerName(lane: number): string {
    return `${this.node}/${laneName(lane)}`
  }

  start(hooks: SourceHooks): void {
    this.hooks = hooks
    this.renewal = setInterval(() => void this.renew(), Math.max(50, this.store.leaseMs / 3))
    this.renewal.unref()
  }

  stop(): void {
    clearInterval(this.renewal)
  }

  /** A shared run's lanes end when the store has nothing left, which only claiming can tell. */
  moreToClaim(): boolean {
    return true
  }

  private async renew(): Promise<void> {
    const held = [...this.held].map(([slot, token]) => ({ slot, token }))
    try {
      const ok = await this.store.renew(held)
      held.forEach((h, k) => {
        if (!ok[k] && this.held.get(h.slot) === h.token) this.hooks.leaseLost(h.slot)
      })
    } catch {
      // The server is away for now; the next renewal tries again, and a lease that lapses meanwhile
      // is fenced like any other.
    }
  }

  /** The next test for `worker`, or null once every test of the run has an outcome (or we stop). */
  async claim(worker: string, stopped: () => boolean): Promise<Claim | null> {
    const poll = Math.min(1000, Math.max(50, this.store.leaseMs / 3))
    for (;;) {
      if (stopped()) return null
      const answer = await this.store.claim(worker)
      if (answer.slot >= 0 && 'token' in answer) {
        this.held.set(answer.slot, answer.token)
        return { slot: answer.slot, attempt: answer.attempt }
      }
      const { finished, leased } = answer as { finished: number; leased: number }
      if (finished >= this.planSize || leased === 0) return null
      await sleep(poll)
    }
  }

  /** Publishes an outcome under this process's lease; false when the lease had been taken over. */
  async publish(slot: number, result: TestResult, t0: number): Promise<boolean> {
    const token = this.held.get(slot)
    this.held.delete(slot)
    return token !== undefined && this.store.finish(slot, token, toStored(result, t0, this.node))
  }

  /** Gives a held test back to the run at once (a worker died here, or this process is stopping). */
  async release(slot: number): Promise<void> {
    const token = this.held.get(slot)
    this.held.delete(slot)
    if (token !== undefined) await this.store.release(slot, token).catch(() => false)
  }
}
