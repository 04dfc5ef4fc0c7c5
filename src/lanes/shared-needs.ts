import { epochOf, releasedSince, type ClaimBoard } from '../claim/board.js'
import type { ClaimWait, LocalFit } from '../claim/claim-source.js'
import { fitMask, takeNeedsFor, WHY_CAPACITY, WHY_GROUP, WHY_RESERVED, type NeedsBoard } from '../claim/groups.js'
import type { RunNeeds } from '../plan/needs.js'

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

/** Per needs board: the group that was full here when this runner first passed each slot over. */
const fullHere = new WeakMap<NeedsBoard, Map<number, number>>()

/** What fits on this machine, for one lane's claims (see LocalFit). */
export function localFit(board: ClaimBoard, needs: { plan: RunNeeds; board: NeedsBoard }, lane: number): LocalFit {
  let epoch = epochOf(board)
  const seen = fullHere.get(needs.board) ?? new Map<number, number>()
  fullHere.set(needs.board, seen)
  return {
    mask() {
      // Read before the mask: a test that ends after it wakes the wait below.
      epoch = epochOf(board)
      return fitMask(needs.board, (slot, group) => {
        if (!seen.has(slot)) seen.set(slot, group)
      })
    },
    took(slot, waited) {
      const here = seen.get(slot)
      seen.delete(slot)
      takeNeedsFor(needs.board, slot, lane, waited && whyCode(needs.plan, slot, waited, here))
    },
    released: (ms) => releasedSince(board, epoch, ms),
  }
}

/**
 * The store's reason as the needs board keeps it (WHY_*). A group full on a runner's mask is the one
 * this runner saw full when it first passed the slot over; when only another runner passed it over,
 * the test's first group (the store keeps no more than that one of its groups was full there).
 */
function whyCode(plan: RunNeeds, slot: number, waited: ClaimWait, fullHere: number | undefined): { ms: number; why: number } {
  if (waited.why === 'capacity') return { ms: waited.ms, why: WHY_CAPACITY }
  if (waited.why === 'reserved') return { ms: waited.ms, why: WHY_RESERVED }
  if (waited.why === 'group' && fullHere !== undefined) return { ms: waited.ms, why: WHY_GROUP + fullHere }
  const name = waited.why === 'run-wide' ? waited.group : plan.tests[slot]?.groups[0]
  const index = plan.groups.findIndex((g) => g.name === name)
  return { ms: waited.ms, why: index >= 0 ? WHY_GROUP + index : WHY_CAPACITY }
}
