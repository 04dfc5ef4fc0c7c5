/** The claim strategies `claimrun bench` races, by the name used on the command line and in --json. */
export const STRATEGIES = {
  cursor: 'shared cursor (Atomics.add) + compareExchange — claimrun',
  needs: 'claim with lock groups and weights (claim/groups.ts) + release — claimrun',
  scan: 'compareExchange slot scan',
  naive: 'check-then-write (the original race)',
  postmessage: 'postMessage request/response via the main thread',
  comlink: 'comlink call per claim',
  redis: 'Redis store (Lua claim script, one round trip)',
} as const

export type Strategy = keyof typeof STRATEGIES

/** In-process strategies, in the order they are run and shown. */
export const LOCAL_STRATEGIES: readonly Strategy[] = ['cursor', 'needs', 'scan', 'naive', 'postmessage', 'comlink']

/** Each claim of these costs a round trip through the main thread (or a server), so they get fewer slots. */
export const isMessageBased = (s: Strategy): boolean => s === 'postmessage' || s === 'comlink' || s === 'redis'

/** One configuration's figures: medians over the repetitions, except duplicates and missing (the worst). */
export interface BenchRow {
  strategy: Strategy
  threads: number
  slots: number
  reps: number
  nsPerClaim: number
  claimsPerSec: number
  /** Claims beyond the first of any slot (only the check-then-write race should ever have some). */
  duplicates: number
  /** Slots nobody claimed (always 0 unless a strategy is broken). */
  missing: number
  /** Each thread's share of the claims (fractions summing to ~1), from the median repetition. */
  shares: number[]
}
