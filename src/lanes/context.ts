import type { Piscina } from 'piscina'
import type { ClaimBoard } from '../claim/board.js'
import type { ClaimSource } from '../claim/claim-source.js'
import type { ResolvedOptions } from '../options/resolve.js'
import type { PlanEntry } from '../vocab/protocol.js'
import type { Recorder } from '../record/recorder.js'
import type { RunEvent } from '../vocab/types.js'
import type { StartMessage } from '../vocab/protocol.js'
import type { WatchdogLink } from '../vocab/watchdog-link.js'
import type { NeedsBoard } from '../claim/groups.js'
import type { RunNeeds } from '../plan/needs.js'

/**
 * What the host (host.ts) and the lane supervisor (lane.ts) share with the run that owns them
 * (execution.ts). Types only, so the three modules do not import each other in a circle.
 */
export interface RunContext {
  readonly opts: ResolvedOptions
  readonly tests: PlanEntry[]
  readonly board: ClaimBoard
  readonly plan: SharedArrayBuffer
  readonly lanes: number
  readonly t0: number
  readonly recorder: Recorder
  readonly source: ClaimSource
  readonly pool: Piscina
  /** The run's state, as far as a lane needs it (the run's state machine, lifecycle/run-state.ts, is one). */
  readonly state: { readonly claiming: boolean }
  /** Tests running now, by slot (for --slow). */
  readonly running: Map<number, StartMessage>
  /** Why the run was interrupted, once it was. */
  readonly stoppedBy: string | null
  /** Set when a shared run's store failed it (and when): tests ending after that are errors. */
  readonly storeFault: { reason: string; at: number } | null
  /** For the worker threads: where they tell the watchdog each test's process group. */
  readonly watchdogLink: WatchdogLink
  /** Who forks this run's tests, chosen once (src/options/fork-path.ts). */
  readonly forkPath: 'lane' | 'spawner'
  /** Lock groups, weights and serial tests, when the plan declares any: what each test needs, and their shared counters. */
  readonly needs: { plan: RunNeeds; board: NeedsBoard } | null
  /** A test's process group was ended by the main thread (a dead worker's test). */
  groupEnded(pgid: number): void
  emit(event: RunEvent): void
  /** Claimrun itself went wrong: the run will exit 2, loudly. */
  fault(message: string): void
  /** A problem that does not change any outcome (a report that could not be published…). */
  problem(message: string): void
  /** A lane could not write its log (a full disk): said once per run, outcomes unchanged. */
  logFailed(lane: number, code: string): void
  /** Counts a failed test toward --bail. */
  failed(): void
}
