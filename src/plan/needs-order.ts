import { estimateWithWait, type History } from '../record/history.js'
import { didNotPass } from '../record/outcome.js'
import type { RunNeeds, TestNeeds } from './needs.js'

/** What `--order smart` counted a test of a run with needs as, and why (shown by --list). */
export interface NeedsRank {
  /** Its length for longest-first, in ms (Infinity: a serial test, first of the tests ordered by length). */
  ms: number
  /** What set it: its own estimate, its weight times it, its estimate plus the wait its needs cost it in recent runs, its group's chain, or serial. */
  by: 'own' | 'weight' | 'wait' | 'group' | 'serial'
  /** With `by: 'group'`: which group. */
  group?: string
}

/**
 * `--order smart` in a run with needs: longest first, where a test's length is what it costs the
 * run, not only its own run time:
 * - a group's tests run one after another (up to its max at once), so together they are one long
 *   job: each counts as its group's work over its max, so the chain starts early instead of trailing
 *   the run alone (inside the chain, its own longest first);
 * - a test of weight w fills w slots while it runs: it counts as w times its estimate, so the heavy
 *   tests start while the rest can still fill around them, instead of waiting for room at the end;
 * - a test that stood passed over for its needs in recent runs counts its estimate plus that wait
 *   (the history keeps it; it covers what the two rules above cannot see, such as a run-wide group
 *   held by other machines);
 * - serial tests go first of those ordered by length, while the machine is still empty: there they
 *   wait for little.
 * The smart order's classes stay (failed last time, then unknown, then longest first: these rules
 * order the last class); ties keep the order given.
 */
export function orderByNeeds<T extends { id: string }>(tests: T[], needs: RunNeeds, history: History): { tests: T[]; needs: TestNeeds[]; ranks: NeedsRank[] } {
  const max = new Map(needs.groups.map((g) => [g.name, g.max]))
  // A test without history is assumed as long as the mean of those with one (any length, when none has).
  const known = tests.map((t) => history.tests[t.id]?.avgMs).filter((ms): ms is number => ms !== undefined)
  const assumed = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 1000
  const chain = new Map<string, number>()
  tests.forEach((t, i) => {
    for (const g of needs.tests[i]?.groups ?? []) chain.set(g, (chain.get(g) ?? 0) + (history.tests[t.id]?.avgMs ?? assumed) / (max.get(g) ?? 1))
  })
  const keyed = tests.map((t, i) => {
    const h = history.tests[t.id]
    const own = needs.tests[i] as TestNeeds
    const rank = !h ? 1 : didNotPass(h.lastStatus) ? 0 : 2
    const estimate = h ? { ms: h.avgMs, withWait: estimateWithWait(h) } : { ms: assumed, withWait: assumed }
    return { t, own, i, rank, length: lengthOf(own, estimate, chain), ms: h?.avgMs ?? 0 }
  })
  // Longest first among the tests with history, and among those without (each assumed the mean
  // length: so serial tests, a long chain, the heavy tests still go first); within a chain (one
  // length), its own longest first.
  keyed.sort((a, b) => a.rank - b.rank || (a.rank > 0 ? b.length.ms - a.length.ms || b.ms - a.ms : 0) || a.i - b.i)
  return { tests: keyed.map((k) => k.t), needs: keyed.map((k) => k.own), ranks: keyed.map((k) => k.length) }
}

/** The longest of a test's lengths (see orderByNeeds); its own estimate wins ties. */
function lengthOf(own: TestNeeds, estimate: { ms: number; withWait: number }, chain: Map<string, number>): NeedsRank {
  if (own.serial) return { ms: Infinity, by: 'serial' }
  const ms = estimate.ms
  let best: NeedsRank = { ms, by: 'own' }
  const consider = (candidate: NeedsRank): void => {
    if (candidate.ms > best.ms) best = candidate
  }
  consider({ ms: ms * own.weight, by: 'weight' })
  consider({ ms: estimate.withWait, by: 'wait' })
  for (const group of own.groups) consider({ ms: chain.get(group) ?? 0, by: 'group', group })
  return best
}
