import { endGroup, groupMembers, processExists, signalGroup } from '../src/util/process-group.js'
import { now } from '../src/util/time.js'
import type { Launched, LaunchEvents, LaunchRequest, Launcher } from '../src/vocab/launcher.js'
import type { TestOutput } from './worker-log.js'

/** After a test exits, how long its pipes may stay open (held by a background child) before we end the group. */
const DRAIN_MS = 250

export interface SpawnOptions {
  /** Who forks it: this thread, or the run's spawner process (see launch.ts). */
  launch: Launcher
  /** Who forks it if `launch` is lost before it started the test (the spawner stalled or went away). */
  fallback?: Launcher
  /** The test's id, for the watchdog. */
  test: string
  argv: string[]
  cwd: string
  /** The lane's environment, and what this test adds to it. */
  env: NodeJS.ProcessEnv
  testEnv: Record<string, string>
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

/**
 * Runs one test as a subprocess: argv only (no shell), stdin at EOF, its own process group.
 * The outcome is taken from the test's exit, not from its pipes closing: a background child that
 * keeps stdout open gets DRAIN_MS, then the group is ended and counted as `leaked`.
 */
export function spawnTest(opts: SpawnOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    let pid: number | undefined
    let settled = false
    let timedOut = false
    /** The deadline passed after the test had exited but before its exit was told: the exit's time decides (see `exited`). */
    let overdue = false
    let pipesClosed = false
    let exit: { code: number | null; signal: string | null; endAt: number } | undefined
    let termTimer: NodeJS.Timeout | undefined
    let killTimer: NodeJS.Timeout | undefined
    let drainTimer: NodeJS.Timeout | undefined
    const onStdout = opts.onStdout
    // The test's outcome is decided: nothing more is to be timed.
    const settle = (): void => {
      settled = true
      clearTimeout(termTimer)
      clearTimeout(killTimer)
      clearTimeout(drainTimer)
    }

    const failed = (spawnError: string): void => {
      if (settled) return
      settle()
      resolve({ exitCode: null, signal: null, spawnError, timedOut: false, leaked: 0, endAt: exit?.endAt ?? now(), ...(pid === undefined ? {} : { pid }) })
    }

    // Whatever is still in the group outlived the test: count it, end it (and see it gone, so
    // nothing of this test is alive once its result is in), stop reading it.
    const finish = (): void => {
      if (settled || !exit || pid === undefined) return
      settle()
      const leftovers = groupMembers(pid)
      launched.drop()
      const { code, signal, endAt } = exit
      const done = (): void => {
        launched.release()
        resolve({ exitCode: code, signal, timedOut, leaked: leftovers.length, endAt, pid })
      }
      if (leftovers.length === 0) done()
      else void endGroup(pid, 0).then(done)
    }

    // Timed from the request: the spawner may tell the pid a few ms after the fork.
    const deadline = now() + opts.timeoutMs
    const onDeadline = (p: number): void => {
      // A timer may fire up to a few ms early (it counts from the event loop's cached time).
      const left = deadline - now()
      if (left > 0) return void (termTimer = setTimeout(onDeadline, left, p))
      // Its leader is gone (reaped), so it exited, and the word of it is on its way: the spawner
      // holds an exit up to a few ms to send it with the pipes' closing, and this thread may have
      // been busy. Whether it exited in time is for its exit's own time to say.
      if (!processExists(p)) return void (overdue = true)
      timedOut = true
      signalGroup(p, 'SIGTERM')
      // Its exit is due now: a spawner that cannot tell it (stopped, stuck) must not hold the test past its timeout.
      launched.probe()
      killTimer = setTimeout(() => signalGroup(p, 'SIGKILL'), opts.killGraceMs)
    }
    const req: LaunchRequest = { argv: opts.argv, cwd: opts.cwd, env: opts.env, testEnv: opts.testEnv, test: opts.test }
    let fallback = opts.fallback
    const events: LaunchEvents = {
      spawned: (p) => {
        pid = p
        opts.onSpawn(p)
        if (opts.timeoutMs <= 0) return
        // Made in a microtask: a quick test's exit often comes in the same read, and then no timer is needed.
        queueMicrotask(() => {
          if (exit || settled) return
          termTimer = setTimeout(onDeadline, Math.max(0, deadline - now()), p)
        })
      },
      failed,
      data: (chunk, stdout) => {
        if (settled) return
        opts.output.data(chunk)
        if (stdout) onStdout?.(chunk)
      },
      exited: (code, signal, at) => {
        if (exit) return
        exit = { code, signal, endAt: at ?? now() }
        clearTimeout(termTimer)
        if (overdue) timedOut = exit.endAt >= deadline
        if (pipesClosed) finish()
        // The pipes' closing usually comes with the exit, in the same read: the timer is made only
        // if it did not (a microtask runs once every frame of that read is handled).
        else queueMicrotask(() => void (!settled && !pipesClosed && (drainTimer = setTimeout(finish, DRAIN_MS))))
      },
      closed: () => {
        pipesClosed = true
        if (exit) finish()
      },
      lost: (reason) => {
        // Its exit will never be told: end what is left of it here, and say what happened (a
        // test past its timeout stays timed out).
        if (exit && pid !== undefined) return finish()
        if (pid === undefined) {
          // Never started there: started here instead, once.
          if (!fallback || settled) return failed(reason)
          launched = fallback(req, events)
          fallback = undefined
          return
        }
        const group = pid
        settle()
        void endGroup(group, opts.killGraceMs).then(() => {
          launched.release()
          resolve({ exitCode: null, signal: null, ...(timedOut ? {} : { spawnError: reason }), timedOut, leaked: 0, endAt: now(), pid: group })
        })
      },
    }
    let launched: Launched = opts.launch(req, events)
  })
}
