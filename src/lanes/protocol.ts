/**
 * The contract between the main thread and a worker thread. Types only: the worker imports it
 * with `import type`, so nothing of the main thread is loaded into a worker.
 * Direction: workers call the Host (comlink `wrap<Host>()`); the main thread `expose()`s it.
 */
import type { MessagePort } from 'node:worker_threads'
import type { SubtestSummary } from '../types.js'
import type { WatchdogLink } from './watchdog-wire.js'

export interface PlannedTest {
  id: string
  argv: string[]
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
  /** The run's watchdog (see src/lanes/watchdog.ts): each test's group is told to it at spawn. */
  watchdog: WatchdogLink | undefined
  timeoutMs: number
  killGraceMs: number
  maxOutputBytes: number
  /** Read each test's stdout as TAP when it is TAP. */
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
}

export interface Host {
  testStarted(report: StartMessage): void
  testFinished(report: EndMessage): void | Promise<void>
  /** Answers once every note sent before it is recorded (see lanes/notes.ts): the lane's last call. */
  flush(): void
  /** Only when the task does not claim in the worker (a shared run): the next test for this lane, or null when none is left. */
  claim(): Promise<{ slot: number; attempt: number } | null>
}
