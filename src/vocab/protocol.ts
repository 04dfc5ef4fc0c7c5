/**
 * The contract between the main thread and a worker thread. Types only: the worker imports it
 * with `import type`, so nothing of the main thread is loaded into a worker.
 * Direction: workers call the Host (comlink `wrap<Host>()`); the main thread `expose()`s it.
 */
import type { MessagePort } from 'node:worker_threads'
import type { SubtestSummary } from './types.js'
import type { WatchdogLink } from './watchdog-link.js'

/**
 * How a test's stdout is read as TAP: `strict` as prove reads a `.t` file (TAP whatever it prints:
 * no plan fails), `auto` only when it is unmistakably TAP (a version line or a plan), `off` never.
 */
export type TapMode = 'auto' | 'strict' | 'off'

export interface PlannedTest {
  id: string
  argv: string[]
  /** This test's TAP mode; absent: `auto`. The run's `tap: false` turns every test's off. */
  tap?: TapMode
}

export interface WorkerTask {
  lane: number
  name: string
  board: SharedArrayBuffer
  lanes: number
  /** The plan, shared (see claim/plan-buffer.ts): each worker decodes only the tests it claims. */
  plan: SharedArrayBuffer
  port: MessagePort
  cwd: string
  logFile: string
  /** Claim from the board's cursor (a local run), or ask the host (a run shared through a store). */
  claimsInWorker: boolean
  /** The run's watchdog (see src/watchdog/watchdog.ts): each test's group is told to it at spawn. */
  watchdog: WatchdogLink | undefined
  /** Who forks this run's tests (chosen once per run: src/options/fork-path.ts). */
  forkPath: 'lane' | 'spawner'
  /**
   * A shared run (its leases renewed by the main thread while a test runs): how often a lane asks
   * the spawner to show it is awake while a test it forked runs; 0 in a local run.
   */
  probeSpawnerEveryMs: number
  timeoutMs: number
  killGraceMs: number
  maxOutputBytes: number
  /** Read tests' stdout as TAP, each in its plan entry's mode; false: none (`--no-tap`). */
  tap: boolean
  /** Lock groups, weights and serial tests (claim/groups.ts): claims then respect them. Absent when none is declared. */
  needs?: SharedArrayBuffer
}

export interface StartMessage {
  slot: number
  lane: number
  attempt: number
  at: number
}

export interface EndMessage {
  slot: number
  lane: number
  attempt: number
  startAt: number
  endAt: number
  exitCode: number | null
  signal: string | null
  /** Claimed just as the run stopped, so not started. */
  notRun?: boolean
  /** The test could not be started (ENOENT, EACCES…). */
  spawnError?: string
  timedOut: boolean
  leaked: number
  outputBytes: number
  droppedBytes: number
  logOffset: number
  logLength: number
  tail: string
  /** Present when the test's stdout was TAP. */
  subtests?: SubtestSummary
  /** The first failed write to this lane's log (its error code: ENOSPC…), told once: output was lost, not the test. */
  logError?: string
}

export interface Host {
  testStarted(report: StartMessage): void
  testFinished(report: EndMessage): void | Promise<void>
  /** Answers once every note sent before it is recorded (see vocab/notes.ts): the lane's last call. */
  flush(): void
  /** Only when the task does not claim in the worker (a shared run): the next test for this lane, or null when none is left. */
  claim(): Promise<{ slot: number; attempt: number } | null>
}

/** A planned test as the main thread keeps it: what a worker decodes, and the file it names. */
export interface PlanEntry extends PlannedTest {
  /** Absolute path of the test file. */
  file: string
}
