import type { History } from '../record/history.js'
import { didNotPass } from '../record/outcome.js'
import type { RunNeeds, TestNeeds } from './needs.js'

/**
 * `--order smart` in a run with lock groups: a group's tests run one after another (up to its max at
 * once), so together they are one long job. Each test counts as long as the longer of its own
 * estimate and its groups' work divided by their max, so a group's chain starts early instead of
 * trailing the run alone (inside the chain, longest first); serial tests come first. The smart order's classes stay (failed last time, then unknown, then
 * longest first); ties keep the order given.
 */
export function orderByNeeds<T extends { id: string }>(tests: T[], needs: RunNeeds, history: History): { tests: T[]; needs: TestNeeds[] } {
  const estimate = (t: T): number | undefined => history.tests[t.id]?.avgMs
  const max = new Map(needs.groups.map((g) => [g.name, g.max]))
  const chain = new Map<string, number>()
  tests.forEach((t, i) => {
    for (const g of needs.tests[i]?.groups ?? []) chain.set(g, (chain.get(g) ?? 0) + (estimate(t) ?? 0) / (max.get(g) ?? 1))
  })
  const keyed = tests.map((t, i) => {
    const h = history.tests[t.id]
    const own = needs.tests[i] as TestNeeds
    const rank = !h ? 1 : didNotPass(h.lastStatus) ? 0 : 2
    // A serial test goes first of all, while the machine is still empty: there it waits for no running test to drain.
    const length = own.serial ? Infinity : Math.max(h?.avgMs ?? 0, ...own.groups.map((g) => chain.get(g) ?? 0))
    return { t, own, i, rank, length, ms: h?.avgMs ?? 0 }
  })
  // Within a group's chain (one length), its own longest first.
  keyed.sort((a, b) => a.rank - b.rank || (a.rank === 2 ? b.length - a.length || b.ms - a.ms : 0) || a.i - b.i)
  return { tests: keyed.map((k) => k.t), needs: keyed.map((k) => k.own) }
}
