/**
 * The contract between the main thread and a worker thread. Types only: the worker imports it
 * with `import type`, so nothing of the main thread is loaded into a worker.
 * Direction: workers call the Host (comlink `wrap<Host>()`); the main thread `expose()`s it.
 */
import type { MessagePort } from 'node:worker_threads'
import type { SubtestSummary } from '../types.js'

export interface PlannedTest {
  id: string
  argv: string[]
}

/** Test-only: make the worker thread die when it runs `test` (at most `attempts` times). */
export interface DeathPlan {
  test: string
  /** `lose`: return from the task holding the claim, unreported (a stand-in for a runner bug). */
  how: 'throw' | 'exit' | 'oom' | 'lose'
  attempts: number
}

export interface WorkerTask {
  lane: number
  name: string
  board: SharedArrayBuffer
  lanes: number
  /** The plan, shared (see shared-plan.ts): each worker decodes only the tests it claims. */
  plan: SharedArrayBuffer
  port: MessagePort
  cwd: string
  logFile: string
  /** Claims come from the main thread (a shared store) instead of the board's cursor. */
  remote: boolean
  timeoutMs: number
  killGraceMs: number
  maxOutputBytes: number
  /** Read each test's stdout as TAP when it is TAP. */
  tap: boolean
  die?: DeathPlan
}

export interface StartReport {
  slot: number
  lane: number
  attempt: number
  at: number
}

export interface EndReport {
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
  testStarted(report: StartReport): void
  testFinished(report: EndReport): void | Promise<void>
  /** Answers once every note sent before it is recorded (see lanes/notes.ts): the lane's last call. */
  flush(): void
  /** Only in a run shared through a store: the next test for this lane, or null when none is left. */
  claim(): Promise<{ slot: number; attempt: number } | null>
}
