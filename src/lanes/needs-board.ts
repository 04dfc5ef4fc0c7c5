import { createNeedsBoard, type NeedsBoard } from '../claim/groups.js'
import type { RunNeeds } from '../plan/needs.js'
import type { PlanEntry } from '../vocab/protocol.js'
import type { History } from '../record/history.js'

/** The shared needs board for a plan: each test's weight, group indexes and history estimate. */
export function needsBoardFor(needs: RunNeeds, tests: PlanEntry[], lanes: number, history: History): NeedsBoard {
  const index = new Map(needs.groups.map((g, i) => [g.name, i]))
  return createNeedsBoard({
    tests: tests.map((t, i) => {
      const own = needs.tests[i]
      return { weight: own?.weight ?? 1, groups: (own?.groups ?? []).map((g) => index.get(g) as number), estimateMs: history.tests[t.id]?.avgMs ?? null }
    }),
    groupMax: needs.groups.map((g) => g.max),
    capacity: needs.capacity,
    lanes,
  })
}
