import type { TestResult } from '../vocab/types.js'

/** A test handed to a lane: its plan slot, and which attempt this is (1 for a first run). */
export interface Claim {
  slot: number
  attempt: number
}

/** Why a shared run cannot go on: the store lost the run, or it stayed out of reach too long. */
export interface StoreFault {
  kind: 'lost' | 'unreachable'
  reason: string
}

/** What a claim source may tell the run while it goes. */
export interface SourceHooks {
  /** A claim this process holds may have passed to another process (a lease renewed too late). */
  leaseLost(slot: number): void
  /** The run cannot go on with its store: stop, end running tests, every test without an outcome is an error. */
  storeFailed?(fault: StoreFault): void
  /** Held tests must be ended by `by` (monotonic ms) unless confirmed again (null: none held); for the watchdog. */
  fence?(by: number | null, graceMs: number): void
}

/** What a test of a shared run waited for: a group full on the machine that passed it over, the capacity there, a heavier test's reservation there, or a run-wide group. */
export type ClaimWait = { ms: number; why: 'group' | 'capacity' | 'reserved' } | { ms: number; why: 'run-wide'; group: string }

/**
 * A shared run whose tests declare needs: this machine's side of a claim from the store (see
 * lanes/shared-needs.ts). The store scans the free tests in order; this says which fit here.
 */
export interface LocalFit {
  /** Per slot in plan order, whether its needs fit here now (claim/groups.ts fitMask). */
  mask(): string
  /** The store gave this machine `slot` under the last mask: its needs are taken here (and how long it stood passed over, when it did). */
  took(slot: number, waited?: ClaimWait): void
  /** Resolves once a test ended here since the last mask (something may fit now), or after `ms`. */
  released(ms: number): Promise<void>
}

/**
 * Where a run's claims come from, chosen once (in run.ts): the local board, on which worker threads
 * claim for themselves with one compareExchange each, or a store shared by several processes, from
 * which the main thread claims for its workers. The run's lifecycle (lanes/) asks a source only the
 * questions on which the two differ; nothing outside a source's own module knows which it is.
 */
export interface ClaimSource {
  /** True when worker threads claim from the board themselves; false when they ask the host. */
  readonly claimsInWorker: boolean
  /**
   * True when this process accounts for every planned test at the end (a test it never finished is
   * `notrun`); false when other processes share the plan and account for what they ran.
   */
  readonly accountsForAll: boolean
  /** A lane's name in results and events: `worker01`, or `<node>/worker01` in a shared run. */
  workerName(lane: number): string
  start(hooks: SourceHooks): void
  stop(): void
  /** The next test for `worker` (only when !claimsInWorker) that `fit` lets it take, or null once none is left or `stopped()`. */
  claim(worker: string, stopped: () => boolean, fit?: LocalFit): Promise<Claim | null>
  /** Makes an outcome the run's; false when the run did not accept it (its lease had passed on). */
  publish(slot: number, result: TestResult, t0: number): Promise<boolean>
  /** Hands a held test back to the run at once (its worker died, or this process is stopping). */
  release(slot: number): Promise<void>
  /** After a worker thread died: whether a replacement should start (more may come to claim). */
  moreToClaim(finishedHere: number, planSize: number): boolean
  /** When !accountsForAll: whether every planned test has an outcome somewhere (else a test not run here is not accounted for). */
  doneEverywhere?(): boolean
  /** Checks the source's health now (a shared run's fence), before a test's end is judged. */
  check?(): void
  /** The kill grace when the source's fence ends tests. */
  readonly fenceGraceMs?: number
}
