import type { HookResult } from './hook-result.js'
/** How one test ended. `flaky` passed only on a retry; `notrun` was never claimed. */
export type Status = 'passed' | 'failed' | 'flaky' | 'timedout' | 'error' | 'interrupted' | 'notrun'


/** How one sub-test of a TAP stream ended (a `# TODO` or `# SKIP` directive wins over ok / not ok). */
export type SubtestStatus = 'passed' | 'failed' | 'skipped' | 'todo'

/** What a test's TAP output said (only for tests whose stdout was TAP). */
export interface SubtestSummary {
  /** Top-level sub-tests (test points) by outcome; together they are the count prove reports. */
  passed: number
  failed: number
  skipped: number
  todo: number
  /** Names of the failing sub-tests, nested ones as `parent > child` (at most 50, each cut at 200 characters). */
  failures: string[]
  /** The plan's count, when the TAP had one (0 for `1..0`, a skip of the whole file). */
  planned?: number
  /** The reason given by a `1..0 # SKIP reason` plan. */
  skipAll?: string
  /** Set when the TAP said `Bail out!`: its reason. */
  bailout?: string
  /** Why the TAP fails the test, whatever its exit code (as prove decides): a failing sub-test, a plan that does not match, no plan, a bail out. Empty when it passes. */
  problems: string[]
  /** The top-level sub-tests in order (the first 1000; the counts cover all). */
  tests: { name: string; status: SubtestStatus }[]
}

export interface TestResult {
  /** Path relative to the run's cwd, with `/` separators. */
  id: string
  /** Absolute path of the test file. */
  file: string
  /** Worker that produced this outcome (`worker02`), or null if no worker ran it. */
  worker: string | null
  status: Status
  exitCode: number | null
  signal: string | null
  /** Milliseconds since the run started; null if it never started. */
  startMs: number | null
  endMs: number | null
  durationMs: number | null
  /** Times the test was started (retries and worker crashes add to it). */
  attempts: number
  /** Why the test could not run or why it was run again (spawn error, worker crash). */
  error?: string
  notes?: string[]
  /** Processes still in the test's process group after it exited (they were ended). */
  leaked?: number
  /** Bytes the test printed (stdout + stderr), and how many of them the log dropped past its cap. */
  outputBytes: number
  droppedBytes?: number
  /** Where this attempt's output lies in the worker log (path relative to the out dir). */
  log?: { path: string; offset: number; length: number }
  /** The last lines of the output (bounded), escaped for nothing: renderers escape it. */
  tail: string
  /** Earlier attempts that failed and were retried (`--retries`), oldest first. */
  previousAttempts?: AttemptResult[]
  /** Sub-test counts, when the test's stdout was TAP (and `tap` was not turned off). */
  subtests?: SubtestSummary
  /** The lock groups it belongs to (only in a run that declares any needs; see docs/groups.md). */
  groups?: string[]
  /** The slots of `workers` it uses while it runs (a serial test: all of them). */
  weight?: number
  /** Set when it runs with nothing else beside it. */
  serial?: boolean
  /** How long its last start waited, with a worker free, for a group or capacity (absent: it did not wait). */
  waitMs?: number
  /** What it waited for: `group db`, `capacity`, or `a heavier test` (capacity kept for a heavy or serial test). */
  waitedFor?: string
}

/** `waitedFor` of a test held back by a heavier test's reservation: a wait its own needs did not cause. */
export const WAITED_BEHIND_HEAVIER = 'a heavier test'

/** One earlier attempt of a retried test. */
export type AttemptResult = Pick<TestResult, 'worker' | 'status' | 'exitCode' | 'signal' | 'startMs' | 'endMs' | 'durationMs' | 'attempts' | 'log' | 'tail'>

export type Counts = Record<Status, number>


export interface RunResult {
  /** The format of this object (and of results.json); schema/results.schema.json describes it. */
  version: 1
  /** The claimrun that ran the suite (its package.json version). */
  claimrunVersion: string
  /** The Node.js that ran claimrun (`process.version`, such as `v22.12.0`). */
  nodeVersion: string
  startedAt: string
  /** When every test had its outcome (ISO 8601, UTC). */
  finishedAt: string
  durationMs: number
  workers: string[]
  tests: TestResult[]
  counts: Counts
  /** The claim order used; `seed` is set for random order, so the run can be repeated. */
  order: { mode: 'smart' | 'given' | 'random'; seed?: number }
  /** `--shard i/n`, when the run was one shard of a split. */
  shard?: string
  /** Set when `--bail` stopped claiming. */
  bailed?: boolean
  /** Set when the run was interrupted: the signal name, or 'abort' for an AbortSignal. */
  interrupted?: string
  /** Things discovery skipped (an unreadable folder…). */
  warnings?: string[]
  /** A shared run that ended because its store lost the run or could not be reached (exit 2). */
  storeError?: string
  /** Faults of claimrun itself noticed during the run (a lost test, a reporter that threw). */
  internalErrors?: string[]
  /** How `--setup` ended, when there was one (a failed setup: no test ran, exit code 2). */
  setup?: HookResult
  /** How `--teardown` ended, when there was one (a failed teardown is a warning; the tests' outcomes stand). */
  teardown?: HookResult
  /** Files the run was asked to write but could not (each with the reason); the exit code is then 2. */
  outputErrors?: string[]
  /** The exit code the CLI uses: 0 all passed, 1 any did not, 2 a file could not be written, 129/130/143 interrupted. */
  exitCode: number
  /** Absolute path of the output folder. */
  out: string
}

export type RunEvent =
  | {
      type: 'run:start'
      startedAt: string
      tests: number
      workers: string[]
      out: string
      order: RunResult['order']
      shard?: string
      /** Expected duration of each test from history (ms), for an ETA; absent without history. */
      estimates?: Record<string, number>
    }
  | { type: 'test:start'; test: string; worker: string; attempt: number; atMs: number }
  | { type: 'test:end'; test: TestResult }
  | { type: 'test:retry'; test: TestResult }
  | { type: 'test:slow'; test: string; worker: string; elapsedMs: number }
  | { type: 'run:bail'; failures: number }
  | { type: 'worker:crash'; worker: string; test: string | null; reason: string }
  | { type: 'run:warning'; message: string }
  | { type: 'run:interrupt'; reason: string }
  | { type: 'run:end'; result: RunResult }

export interface RunOptions {
  /** Files and folders to take tests from. @default ['test'] when that folder exists */
  paths?: string[]
  /** Worker threads, or `'auto'` for the CPUs available (os.availableParallelism()). @default 3 */
  workers?: number | 'auto'
  /** Command template for every test, split into argv like a shell would but never run by one; `{file}` is the test's absolute path (appended when absent). */
  cmd?: string
  /**
   * Runners by kind of file: a glob (`*.ts`, or `t/**\/*.t` on the test's path) → a command template
   * like `cmd`, or `{ cmd, tap: true }` for a runner whose output is TAP. The first glob that matches
   * wins; `cmd` overrides them all. Without one, `.py` runs through the project's pytest or unittest,
   * `.t` through perl as prove runs it, `.js` through node, `.sh` through sh. @default {}
   */
  runners?: Record<string, string | { cmd: string; tap?: boolean }>
  /** Glob that picks test files inside folders (matched against the base name, or the relative path when it holds a `/`). */
  pattern?: string
  /** Folder for logs, summary.txt and results.json. @default '.claimrun/last-run' */
  out?: string
  /** @default process.cwd() */
  cwd?: string
  /** Per-test timeout: seconds, or a string with a unit (`'500ms'`, `'30s'`, `'2m'`). @default none */
  timeout?: number | string
  /** Between SIGTERM and SIGKILL when a test is ended: seconds, or a string with a unit. @default 5 */
  killGrace?: number | string
  /** Bytes of output kept in a worker log per test; the rest is counted and dropped. @default 52428800 (50 MiB) */
  maxOutput?: number
  /** History file (durations, last outcomes) read for ordering and updated after the run; false: none. @default '.claimrun/history.json' */
  history?: string | false
  /** Claim order: failed-last-time, unknown, then longest first (`smart`); path order (`given`); or seeded `random`. @default 'smart' */
  order?: 'smart' | 'given' | 'random'
  /** Seed for `order: 'random'`. @default a fresh one, reported in the result */
  seed?: number
  /** Run only the tests that did not pass last time (all if none). @default false */
  lastFailed?: boolean
  /** Stop claiming after this many tests fail; running ones finish, the rest are `notrun`. @default none */
  bail?: number
  /** Extra attempts for a failed or timed-out test; one that passes on a retry is `flaky`. @default 0 */
  retries?: number
  /** Make flaky tests fail the run (exit 1). @default false */
  failOnFlaky?: boolean
  /** Read tests' stdout as TAP (see docs/tap.md): a `.t` file's always, as prove does; another's when a `TAP version` line or a plan says it is TAP. Its sub-tests are counted, and a `not ok`, a wrong or missing plan or `Bail out!` fails it even if it exits 0. false: never, not even a `.t` file's. @default true */
  tap?: boolean
  /** Announce a test once it has run this long (a `test:slow` event): seconds, or a string with a unit. @default 30 */
  slow?: number | string
  /** Also write results.json's content to this file. */
  json?: string
  /** Write JUnit XML here. */
  junit?: string
  /** Write the HTML report here too (it is always written to `<out>/report.html`). */
  html?: string
  /** A shared claim store (`redis://host:port[/db]`, `rediss://` for TLS) so several processes or machines drain one run. */
  store?: string
  /** The shared run's id; defaults from CI variables (GITHUB_RUN_ID, CI_PIPELINE_ID, …). */
  runId?: string
  /** This process's name in a shared run. @default '<hostname>-<pid>' */
  node?: string
  /** How long a claim in a shared store stays valid without renewal: seconds, or a string with a unit. @default 30 */
  lease?: number | string
  /** How long the shared run's keys live in the store: seconds, or a string with a unit. @default 86400 */
  ttl?: number | string
  /** This run's share of the suite, `i/n` (1-based), for CI matrices. */
  shard?: string
  /** Run only the tests whose id contains this text, or matches it when written `/regex/flags`; with several, any of them. One that matches no test is a warning. @default every test */
  grep?: string | string[]
  /** Leave out the tests whose id, or a folder above it, matches this glob, as a `.gitignore` line does: a folder (`tests`, `tests/`, `./tests`) means everything under it; one without `/` matches a name at any depth. With several, any of them; one that matches no test is a warning. @default none */
  exclude?: string | string[]
  /** A command run once before the first test (split into argv like `cmd`, never by a shell), output in `<out>/setup.log`; if it fails no test runs: every test is `notrun` and the run rejects with CLAIMRUN_SETUP_FAILED. @default none */
  setup?: string
  /** A command run once after the last test, also after an interrupt or a failed setup; output in `<out>/teardown.log`. @default none */
  teardown?: string
  /** Environment variables added for every test (and for setup and teardown). @default {} */
  env?: Record<string, string>
  /** Lock groups: at most `max` of the tests matching a group's globs run at once; in a shared run per machine, or over the whole run with `scope: "run"` (see docs/groups.md). @default none */
  groups?: Record<string, { tests?: string | string[]; max?: number; scope?: 'machine' | 'run' }>
  /** Tests (by glob) that use this many of the `workers` slots while they run. @default 1 each */
  weights?: Record<string, number>
  /** Tests (by glob) that run with nothing else beside them. @default none */
  serial?: string | string[]
  /** Aborting it stops the run: running tests are ended, the rest are `notrun`. */
  signal?: AbortSignal
  /** Receives every event of the run, in order. */
  onEvent?: (event: RunEvent) => void
}
