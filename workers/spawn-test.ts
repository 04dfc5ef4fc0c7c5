import { spawn, type ChildProcess } from 'node:child_process'
import { endGroup, groupMembers, signalGroup } from '../src/util/process-group.js'
import { now } from '../src/util/time.js'
import type { TestOutput } from './worker-log.js'

/** After a test exits, how long its pipes may stay open (held by a background child) before we end the group. */
const DRAIN_MS = 250

export interface SpawnOptions {
  argv: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  timeoutMs: number
  killGraceMs: number
  output: TestOutput
  /** Also given every chunk of stdout (not stderr), after the log has it. */
  onStdout?: (chunk: Buffer) => void
  /** Called with the pid (= process group id) as soon as the test exists. */
  onSpawn: (pid: number) => void
}

export interface Outcome {
  exitCode: number | null
  signal: string | null
  spawnError?: string
  timedOut: boolean
  leaked: number
  endAt: number
  /** The test's pid (= its process group), once it existed; every member is gone by now. */
  pid?: number
}

function describeSpawnError(command: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return `${command}: not found (ENOENT)`
  if (err.code === 'EACCES') return `${command}: permission denied (EACCES)`
  return `${command}: ${err.message}`
}

/**
 * Runs one test as a subprocess: argv only (no shell), stdin at EOF, its own process group.
 * The outcome is taken from the test's exit, not from its pipes closing: a background child that
 * keeps stdout open gets DRAIN_MS, then the group is ended and counted as `leaked`.
 */
export function spawnTest(opts: SpawnOptions): Promise<Outcome> {
  const [command, ...args] = opts.argv as [string, ...string[]]
  return new Promise((resolve) => {
    let child: ChildProcess
    try {
      child = spawn(command, args, {
        cwd: opts.cwd,
        env: opts.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      })
    } catch (err) {
      resolve({ exitCode: null, signal: null, spawnError: describeSpawnError(command, err as NodeJS.ErrnoException), timedOut: false, leaked: 0, endAt: now() })
      return
    }

    let settled = false
    let timedOut = false
    let termTimer: NodeJS.Timeout | undefined
    let killTimer: NodeJS.Timeout | undefined
    const pid = child.pid

    child.on('error', (err: NodeJS.ErrnoException) => {
      // Without a pid the test never started; with one, an error here is about signalling it.
      if (pid !== undefined || settled) return
      settled = true
      resolve({ exitCode: null, signal: null, spawnError: describeSpawnError(command, err), timedOut: false, leaked: 0, endAt: now() })
    })
    if (pid === undefined) return

    opts.onSpawn(pid)
    const onStdout = opts.onStdout
    child.stdout?.on('data', onStdout ? (chunk: Buffer) => { opts.output.data(chunk); onStdout(chunk) } : opts.output.data)
    child.stderr?.on('data', opts.output.data)

    if (opts.timeoutMs > 0) {
      termTimer = setTimeout(() => {
        timedOut = true
        signalGroup(pid, 'SIGTERM')
        killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), opts.killGraceMs)
      }, opts.timeoutMs)
    }

    child.on('exit', (code, signal) => {
      const endAt = now()
      clearTimeout(termTimer)
      const pipes = [child.stdout, child.stderr].filter((s) => s && !s.closed)
      let open = pipes.length
      const finish = (): void => {
        if (settled) return
        settled = true
        clearTimeout(drainTimer)
        clearTimeout(killTimer)
        // Whatever is still in the group outlived the test: count it, end it (and see it gone, so
        // nothing of this test is alive once its result is in), stop reading it.
        const leftovers = groupMembers(pid)
        for (const p of pipes) p?.destroy()
        const done = (): void => resolve({ exitCode: code, signal, timedOut, leaked: leftovers.length, endAt, pid })
        if (leftovers.length === 0) done()
        else void endGroup(pid, 0).then(done)
      }
      const drainTimer = setTimeout(finish, DRAIN_MS)
      if (open === 0) finish()
      for (const p of pipes) p?.once('close', () => --open === 0 && finish())
    })
  })
}
