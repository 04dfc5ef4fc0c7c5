import { spawn, type ChildProcess } from 'node:child_process'

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
  /** Only through the spawner: the spawner is gone, and with it whatever it would still have told. */
  lost(reason: string): void
}

export interface Launched {
  /** Stop reading the test's pipes (its group is being ended, or has been). */
  drop(): void
  /** The test's group is gone: the watchdog need not guard it any longer. */
  release(): void
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

export function describeSpawnError(command: string, err: { code?: string | undefined; message: string }): string {
  if (err.code === 'ENOENT') return `${command}: not found (ENOENT)`
  if (err.code === 'EACCES') return `${command}: permission denied (EACCES)`
  return `${command}: ${err.message}`
}

/**
 * Forks the test from this thread: argv only (no shell), stdin at EOF, its own process group.
 * `guard(pid)` runs right after the fork, before anything else (it tells the watchdog); `unguard`
 * once the group is gone.
 */
export function launchHere(guard: (pid: number, test: string) => void, unguard: (pid: number) => void): Launcher {
  return (req, events) => {
    const [command, ...args] = req.argv as [string, ...string[]]
    let child: ChildProcess
    try {
      child = spawn(command, args, { cwd: req.cwd, env: Object.assign(req.env, req.testEnv), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    } catch (err) {
      queueMicrotask(() => events.failed(describeSpawnError(command, err as NodeJS.ErrnoException)))
      return { drop: () => {}, release: () => {} }
    }
    const pid = child.pid
    // Without a pid the test never started; with one, an error here is about signalling it.
    child.on('error', (err: NodeJS.ErrnoException) => pid === undefined && events.failed(describeSpawnError(command, err)))
    if (pid === undefined) return { drop: () => {}, release: () => {} }
    guard(pid, req.test)
    events.spawned(pid)
    child.stdout?.on('data', (chunk: Buffer) => events.data(chunk, true))
    child.stderr?.on('data', (chunk: Buffer) => events.data(chunk, false))
    child.on('exit', (code, signal) => events.exited(code, signal))
    let open = 2
    const closed = (): void => void (--open === 0 && events.closed())
    child.stdout?.once('close', closed)
    child.stderr?.once('close', closed)
    return {
      drop: () => {
        child.stdout?.destroy()
        child.stderr?.destroy()
      },
      release: () => unguard(pid),
    }
  }
}
