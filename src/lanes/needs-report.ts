import { waitOf, WHY_CAPACITY, WHY_GROUP, WHY_RESERVED, type NeedsBoard } from '../claim/groups.js'
import type { RunNeeds } from '../plan/needs.js'
import { WAITED_BEHIND_HEAVIER, type TestResult } from '../vocab/types.js'

/**
 * Adds what a test needed, and how long it waited for it, to its result (results.json, the lines,
 * the summary). Only a run that declares needs has these fields; a waitless start has no wait.
 */
export function describeNeeds(needs: { plan: RunNeeds; board: NeedsBoard }, slot: number, result: TestResult): void {
  const own = needs.plan.tests[slot]
  if (!own) return
  result.groups = own.groups
  result.weight = own.weight
  if (own.serial) result.serial = true
  if (result.startMs === null) return
  const { ms, why } = waitOf(needs.board, slot)
  if (ms <= 0) return
  result.waitMs = ms
  result.waitedFor =
    why === WHY_CAPACITY ? 'capacity' : why === WHY_RESERVED ? WAITED_BEHIND_HEAVIER : why >= WHY_GROUP ? `group ${needs.plan.groups[why - WHY_GROUP]?.name ?? '?'}` : 'capacity'
}
