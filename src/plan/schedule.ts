import type { History } from '../record/history.js'
import { didNotPass } from '../record/outcome.js'
import type { PlanEntry } from '../vocab/protocol.js'
import { mulberry32 } from '../util/random.js'

/** The claim order of a run. */
export type OrderMode = 'smart' | 'given' | 'random'

export interface Shard {
  index: number
  total: number
}


/** A seeded shuffle (mulberry32 + Fisher–Yates), so `--order random --seed n` repeats exactly. */
export function shuffle<T>(items: T[], seed: number): T[] {
  const random = mulberry32(seed)
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

/**
 * The order workers claim in. `smart`: what failed last time first (it is what you want to know
 * about), then tests with no history (assumed long), then the rest longest first, so no long test
 * is left for the end while the other workers idle. Ties keep the given order.
 */
export function orderTests(tests: PlanEntry[], history: History, mode: OrderMode, seed: number): PlanEntry[] {
  if (mode === 'given') return tests
  if (mode === 'random') return shuffle(tests, seed)
  const rank = (t: PlanEntry): [number, number] => {
    const h = history.tests[t.id]
    if (!h) return [1, 0]
    return [didNotPass(h.lastStatus) ? 0 : 2, -h.avgMs]
  }
  return tests
    .map((t, i) => ({ t, i, r: rank(t) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
    .map((x) => x.t)
}

/** `--last-failed`: the tests that did not pass last time, or all of them if there are none. */
export function lastFailed(tests: PlanEntry[], history: History): PlanEntry[] {
  const failed = tests.filter((t) => {
    const h = history.tests[t.id]
    return h !== undefined && didNotPass(h.lastStatus)
  })
  return failed.length > 0 ? failed : tests
}

/**
 * A deterministic share of the suite for one CI job. With history: longest first into whichever
 * shard has the least total time so far (tests without history count as the mean), so shards end
 * together. Without: every n-th test. The same inputs give the same split on every machine.
 */
export function shardTests(tests: PlanEntry[], history: History, shard: Shard): PlanEntry[] {
  const known = tests.map((t) => history.tests[t.id]?.avgMs).filter((ms): ms is number => ms !== undefined)
  if (known.length === 0) return tests.filter((_, i) => i % shard.total === shard.index - 1)
  const mean = known.reduce((a, b) => a + b, 0) / known.length
  const estimate = (t: PlanEntry): number => history.tests[t.id]?.avgMs ?? mean
  const bins = new Array<number>(shard.total).fill(0)
  const mine = new Set<PlanEntry>()
  const byLength = tests
    .map((t, i) => ({ t, i, ms: estimate(t) }))
    .sort((a, b) => b.ms - a.ms || (a.t.id < b.t.id ? -1 : a.t.id > b.t.id ? 1 : a.i - b.i))
  for (const { t, ms } of byLength) {
    let bin = 0
    for (let b = 1; b < bins.length; b++) if ((bins[b] as number) < (bins[bin] as number)) bin = b
    bins[bin] = (bins[bin] as number) + ms
    if (bin === shard.index - 1) mine.add(t)
  }
  return tests.filter((t) => mine.has(t))
}
