import { epochOf, releasedSince, type ClaimBoard } from '../claim/board.js'
import type { LocalFit } from '../claim/claim-source.js'
import { fitMask, takeNeedsFor, type NeedsBoard } from '../claim/groups.js'

/** The claim in progress on each needs board: a shared run's lanes claim from the store one at a time. */
const turns = new WeakMap<NeedsBoard, Promise<unknown>>()

/**
 * A shared run whose tests declare needs: the main thread claims from the store for `lane`, with a
 * mask of what fits on this machine, and takes the test's needs here as the answer comes. Claims
 * wait their turn, so no other claim reads the counters between a mask and its take (a worker
 * thread only releases meanwhile, which leaves the mask on the safe side).
 */
export function claimInTurn<T>(nb: NeedsBoard, claim: () => Promise<T>): Promise<T> {
  const mine = (turns.get(nb) ?? Promise.resolve()).then(claim, claim)
  turns.set(nb, mine.catch(() => {}))
  return mine
}

/** What fits on this machine, for one lane's claims (see LocalFit). */
export function localFit(board: ClaimBoard, nb: NeedsBoard, lane: number): LocalFit {
  let epoch = epochOf(board)
  return {
    mask() {
      // Read before the mask: a test that ends after it wakes the wait below.
      epoch = epochOf(board)
      return fitMask(nb)
    },
    took: (slot) => takeNeedsFor(nb, slot, lane),
    released: (ms) => releasedSince(board, epoch, ms),
  }
}
