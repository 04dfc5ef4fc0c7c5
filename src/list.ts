import { escapeLine } from './util/escape.js'
import type { History } from './record/history.js'
import { didNotPass } from './record/outcome.js'
import { resolveOptions, type ResolvedOptions } from './options/resolve.js'
import type { PlanEntry } from './vocab/protocol.js'
import { describeOrder, formatMs, pad, padStart } from './reporters/format.js'
import type { RunOptions, RunResult, Status } from './vocab/types.js'
import { preparePlan } from './plan/prepare.js'
import type { NeedsRank } from './plan/needs-order.js'
import { plural } from './util/plural.js'
import { listedNeeds, needsText } from './plan/needs-list.js'

/** Why a test sits where it does in the claim order. */
export type ListReason = 'failed-last-time' | 'no-history' | 'longest-first' | 'given' | 'random'

export interface ListedTest {
  /** 1-based place in the claim order: workers take tests in this order, whichever worker is free. */
  position: number
  id: string
  file: string
  argv: string[]
  /** Expected duration from history (the mean of recent runs); null without history. */
  estimateMs: number | null
  reason: ListReason
  /** The status it ended with last time, from history. */
  lastStatus: Status | null
  /** Only in a run that declares needs (see docs/groups.md): its lock groups, its weight, whether it runs alone. */
  groups?: string[]
  weight?: number
  serial?: boolean
  /** Where each of its needs was declared: `group db (config)`, `weight=2 (line 3)`. */
  needs?: string[]
  /** From history, in a run with needs: how long it stood passed over for its needs, on average over recent runs. */
  waitEstimateMs?: number
  /**
   * With needs and `--order smart`, for a test ordered by length (longest first, or among those
   * without history, each assumed as long as the mean of the rest): the length the order counted it
   * as (ms; null for a serial test, first of them) and what set it (plan/needs-order.ts).
   */
  countedAs?: { ms: number | null; by: NeedsRank['by']; group?: string }
}

/** What `claimrun run --list` prints: the plan a run would claim, the same for any number of workers. */
export interface TestList {
  version: 1
  order: RunResult['order']
  /** `i/n` when the run is one shard of a split. */
  shard?: string
  /** Tests found and selected before --shard and --last-failed took their share. */
  selected: number
  tests: ListedTest[]
  warnings: string[]
}

function reasonFor(t: PlanEntry, history: History, opts: ResolvedOptions): ListReason {
  if (opts.order !== 'smart') return opts.order
  const h = history.tests[t.id]
  if (!h) return 'no-history'
  return didNotPass(h.lastStatus) ? 'failed-last-time' : 'longest-first'
}

/** Plans a run and returns its claim order without running anything (nor writing any file). */
export function listTests(options: RunOptions = {}): TestList {
  const opts = resolveOptions(options)
  const { tests, selected, history, warnings, needs, ranks } = preparePlan(opts)
  return {
    version: 1,
    order: opts.order === 'random' ? { mode: 'random', seed: opts.seed } : { mode: opts.order },
    ...(opts.shard ? { shard: `${opts.shard.index}/${opts.shard.total}` } : {}),
    selected,
    tests: tests.map((t, i) => {
      const reason = reasonFor(t, history, opts)
      const h = history.tests[t.id]
      return {
        position: i + 1,
        id: t.id,
        file: t.file,
        argv: t.argv,
        estimateMs: h?.avgMs ?? null,
        reason,
        lastStatus: h?.lastStatus ?? null,
        ...listedNeeds(needs?.tests[i]),
        ...(needs && h?.avgWaitMs ? { waitEstimateMs: h.avgWaitMs } : {}),
        ...(ranks && (reason === 'longest-first' || reason === 'no-history') ? { countedAs: countedAs(ranks[i] as NeedsRank) } : {}),
      }
    }),
    warnings,
  }
}

const countedAs = (r: NeedsRank): NonNullable<ListedTest['countedAs']> => ({ ms: Number.isFinite(r.ms) ? Math.round(r.ms * 10) / 10 : null, by: r.by, ...(r.group ? { group: r.group } : {}) })

/** Why a test of a run with needs sits where it does in longest-first order (see orderByNeeds). */
function longestFirstText(t: ListedTest): string {
  const c = t.countedAs
  if (!c || c.by === 'own') return 'longest first'
  if (c.by === 'serial' || c.ms === null) return 'serial: first of the tests ordered by length, while the machine is still empty'
  const as = `longest first, as ${formatMs(c.ms).trim()}`
  if (c.by === 'group') return `${as}: group ${escapeLine(c.group ?? '?')}'s work over its max, one chain`
  if (c.by === 'weight') return `${as}: weight ${t.weight} × its estimate`
  return `${as}: its estimate + ${formatMs(t.waitEstimateMs ?? 0).trim()} waited for its needs (recent runs)`
}

/** Among the tests without history (each assumed as long as the mean), what put a test of a run with needs ahead. */
function noHistoryText(t: ListedTest): string {
  const c = t.countedAs
  const head = 'no history: early, assumed long'
  if (!c || c.by === 'own' || c.by === 'wait') return head
  if (c.by === 'serial') return `${head}; serial: first of them`
  if (c.by === 'group') return `${head}; group ${escapeLine(c.group ?? '?')}'s tests over its max, one chain: ahead`
  return `${head}; weight ${t.weight}: counted ${t.weight} times as long`
}

const REASON_TEXT: Record<ListReason, (t: ListedTest) => string> = {
  'failed-last-time': (t) => `${t.lastStatus} last time: first, to learn soonest`,
  'no-history': noHistoryText,
  'longest-first': longestFirstText,
  given: () => 'given order',
  random: () => 'random order',
}

/** The plan as a table, ids escaped (a test's name cannot redraw the terminal). */
export function renderList(list: TestList): string {
  const scope = list.shard ? `shard ${list.shard}: ${list.tests.length} of ${plural(list.selected, 'test')}` : plural(list.tests.length, 'test')
  const head = `claimrun: ${scope} in claim order (order ${describeOrder(list.order)}; the same for any number of workers: each free worker takes the next). Nothing was run.`
  const withNeeds = list.tests.some((t) => t.weight !== undefined)
  const rows = list.tests.map((t) => [String(t.position), escapeLine(t.id), formatMs(t.estimateMs), REASON_TEXT[t.reason](t) + (withNeeds ? needsText(t) : '')])
  const header = ['#', 'TEST', 'ESTIMATE', withNeeds ? 'WHY HERE (AND WHAT IT NEEDS: PASSED OVER WHILE THAT IS TAKEN)' : 'WHY HERE']
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] as string).length)))
  const line = (r: string[]): string =>
    r.map((cell, c) => (c === 0 || c === 2 ? padStart(cell, widths[c] as number) : c === 3 ? cell : pad(cell, widths[c] as number))).join('  ')
  return [head, '', line(header), ...rows.map(line), ''].join('\n')
}
