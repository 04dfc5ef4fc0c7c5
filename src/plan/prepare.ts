import { emptyHistory, loadHistory, type History } from '../record/history.js'
import { planTests, type PlanOptions } from './plan.js'
import type { PlanEntry } from '../vocab/protocol.js'
import { lastFailed, orderTests, shardTests } from './schedule.js'
import { resolveNeeds, type RunNeeds } from './needs.js'
import { orderByNeeds, type NeedsRank } from './needs-order.js'

export interface PreparedPlan {
  /** The tests of this run, in claim order. */
  tests: PlanEntry[]
  /** Tests discovered and selected (--grep, --exclude) before --shard and --last-failed took their share. */
  selected: number
  history: History
  warnings: string[]
  /** What each test needs (lock groups, weight, serial), in claim order; null when nothing is declared. */
  needs: RunNeeds | null
  /** With needs and --order smart: what each test counted as in the order (see orderByNeeds), in claim order. */
  ranks: NeedsRank[] | null
}

/**
 * Everything a run decides before any worker exists: discover, select, shard, --last-failed, order.
 * `claimrun run --list` prints exactly this, so what it shows is what a run claims.
 */
export function preparePlan(opts: PlanOptions): PreparedPlan {
  const plan = planTests(opts)
  const loaded = opts.history ? loadHistory(opts.history) : { history: emptyHistory() }
  const warnings = loaded.warning ? [...plan.warnings, loaded.warning] : plan.warnings
  // Shard the selected suite first, so every test lies in exactly one shard whatever else is chosen.
  let tests = opts.shard ? shardTests(plan.tests, loaded.history, opts.shard) : plan.tests
  if (opts.lastFailed) tests = lastFailed(tests, loaded.history)
  tests = orderTests(tests, loaded.history, opts.order, opts.seed)
  if (opts.first.length) {
    // --watch: the files that just changed go first.
    const first = new Set(opts.first)
    tests = [...tests.filter((t) => first.has(t.id)), ...tests.filter((t) => !first.has(t.id))]
  }
  let needs = resolveNeeds(tests, plan.discovered, opts.needs, opts)
  let ranks: NeedsRank[] | null = null
  if (needs && opts.order === 'smart' && opts.first.length === 0) {
    const ordered = orderByNeeds(tests, needs, loaded.history)
    tests = ordered.tests
    needs = { ...needs, tests: ordered.needs }
    ranks = ordered.ranks
  }
  return { tests, selected: plan.tests.length, history: loaded.history, warnings, needs, ranks }
}
