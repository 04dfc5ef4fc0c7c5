import type { RedisStore, RemoteClaim } from './redis-store.js'

import { sleep } from '../util/time.js'

/**
 * This process's side of a run shared through a store: the leases it holds (slot → fencing token),
 * renewed every third of the lease while their tests run, and claims that wait while other
 * machines hold the last tests (one of them may die, and its lease lapse back to us).
 */
export class RemoteClaims {
  private readonly held = new Map<number, number>()
  private renewal: NodeJS.Timeout | undefined

  /** Told when a renewal is refused: the test may already be running elsewhere. */
  onLost: (slot: number) => void = () => {}

  constructor(
    readonly store: RedisStore,
    readonly node: string,
    private readonly planSize: number,
  ) {}

  start(): void {
    this.renewal = setInterval(() => void this.renew(), Math.max(50, this.store.leaseMs / 3))
    this.renewal.unref()
  }

  stop(): void {
    clearInterval(this.renewal)
  }

  private async renew(): Promise<void> {
    const held = [...this.held].map(([slot, token]) => ({ slot, token }))
    try {
      const ok = await this.store.renew(held)
      held.forEach((h, k) => {
        if (!ok[k] && this.held.get(h.slot) === h.token) this.onLost(h.slot)
      })
    } catch {
      // The server is away for now; the next renewal tries again, and a lease that lapses meanwhile
      // is fenced like any other.
    }
  }

  /** The next test for `worker`, or null once every test of the run has an outcome (or we stop). */
  async claim(worker: string, stopped: () => boolean): Promise<RemoteClaim | null> {
    const poll = Math.min(1000, Math.max(50, this.store.leaseMs / 3))
    for (;;) {
      if (stopped()) return null
      const answer = await this.store.claim(worker)
      if (answer.slot >= 0) {
        const claim = answer as RemoteClaim
        this.held.set(claim.slot, claim.token)
        return claim
      }
      const { finished, leased } = answer as { finished: number; leased: number }
      if (finished >= this.planSize || leased === 0) return null
      await sleep(poll)
    }
  }

  /** Publishes an outcome under this process's lease; false when the lease had been taken over. */
  async finish(slot: number, outcome: unknown): Promise<boolean> {
    const token = this.held.get(slot)
    this.held.delete(slot)
    return token !== undefined && this.store.finish(slot, token, outcome)
  }

  /** Gives a held test back to the run at once (a worker died here, or this process is stopping). */
  async release(slot: number): Promise<void> {
    const token = this.held.get(slot)
    this.held.delete(slot)
    if (token !== undefined) await this.store.release(slot, token).catch(() => false)
  }
}
