import { laneName } from '../vocab/names.js'
import type { Claim, ClaimSource } from './claim-source.js'

/**
 * A run on this machine alone: worker threads claim straight from the board (claim/board.ts), so
 * this source has nothing to do but say so. Every outcome is the run's the moment it is recorded.
 */
export class LocalClaims implements ClaimSource {
  readonly claimsInWorker = true
  readonly accountsForAll = true
  workerName = laneName
  start(): void {}
  stop(): void {}
  async claim(): Promise<Claim | null> {
    return null
  }
  async publish(): Promise<boolean> {
    return true
  }
  async release(): Promise<void> {}
  moreToClaim(finishedHere: number, planSize: number): boolean {
    return finishedHere < planSize
  }
}
