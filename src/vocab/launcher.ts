/** What starting a test reports, whoever forks it (this thread, or the run's spawner process). */
export interface LaunchEvents {
  /** The test exists: its pid is its process group. */
  spawned(pid: number): void
  /** It could not be started (ENOENT, EACCES…): one line saying why. */
  failed(message: string): void
  data(chunk: Buffer, stdout: boolean): void
  /**
   * It exited; `at` (this thread's `now()` clock) is when its parent saw it, given when that was
   * earlier than this call (the spawner's word comes a few ms after the exit at most).
   */
  exited(code: number | null, signal: string | null, at?: number): void
  /** Both of its pipes are closed (after its exit, or with a background child holding them, later). */
  closed(): void
  /**
   * Only through the spawner: the spawner is gone or stalled (it missed the deadline on an answer),
   * and with it whatever it would still have told. Before `spawned`: the test was not started there.
   */
  lost(reason: string): void
}

export interface Launched {
  /** Stop reading the test's pipes (its group is being ended, or has been). */
  drop(): void
  /** The test's group is gone: the watchdog need not guard it any longer. */
  release(): void
  /** An answer is due (the test was signalled): whoever forked it must show it is awake, or `lost` comes. */
  probe(): void
}

export interface LaunchRequest {
  argv: string[]
  cwd: string
  /** The lane's environment (built once), and what differs for this test. */
  env: NodeJS.ProcessEnv
  testEnv: Record<string, string>
  /** For the watchdog's note, should the runner die while the test runs. */
  test: string
}

export type Launcher = (req: LaunchRequest, events: LaunchEvents) => Launched
