import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'

/**
 * The one way claimrun starts a process of the user's (a test, a `--setup` or `--teardown` hook),
 * whichever process forks it (a lane's thread, the spawner, the main thread): argv only (never a
 * shell), stdin at EOF, the leader of its own process group, so that a timeout or a stop can end it
 * and all it started.
 */

/** Why a command could not be started, in one line: "x: not found (ENOENT)". */
export function describeSpawnError(command: string, err: { code?: string | undefined; message: string }): string {
  if (err.code === 'ENOENT') return `${command}: not found (ENOENT)`
  if (err.code === 'EACCES') return `${command}: permission denied (EACCES)`
  return `${command}: ${err.message}`
}

export interface GroupOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  /** stdout and stderr: two pipes unless given (a hook writes straight into its log file). */
  stdio?: StdioOptions
}

export type Started = ChildProcess & { pid: number }

/**
 * Starts `argv` in a process group of its own. Returns the child once it exists (its pid is its
 * group's id); else returns undefined and calls `failed` once, in a later microtask or event, with
 * the one line saying why.
 */
export function spawnGroup(argv: readonly string[], opts: GroupOptions, failed: (message: string) => void): Started | undefined {
  const [command = '', ...args] = argv
  let child: ChildProcess
  try {
    child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'], detached: true })
  } catch (err) {
    queueMicrotask(() => failed(describeSpawnError(command, err as NodeJS.ErrnoException)))
    return undefined
  }
  if (child.pid === undefined) {
    child.once('error', (err: NodeJS.ErrnoException) => failed(describeSpawnError(command, err)))
    return undefined
  }
  // With a pid the process exists: a later error is about signalling it, which the caller's kill handles.
  child.on('error', () => {})
  return child as Started
}

/**
 * Calls `closed` once both of the child's output pipes have closed: after its exit, or later when a
 * process it left behind holds them.
 */
export function whenPipesClosed(child: ChildProcess, closed: () => void): void {
  let open = 2
  const one = (): void => void (--open === 0 && closed())
  child.stdout?.once('close', one)
  child.stderr?.once('close', one)
}
