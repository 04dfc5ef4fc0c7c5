/**
 * What the CLI arms before anything slow, so that the runner's own process being hurt never loses
 * a result: stop signals (SIGINT, SIGTERM, SIGHUP) and a stdout or stderr whose reader went away.
 * Imports nothing but Node built-ins: it must be armed within the first milliseconds.
 */
import { closeSync } from 'node:fs'

/** Signals that stop a run: first one stops (grace for running tests), a second ends them at once. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

export interface StopSignals {
  /** Aborted (reason: the signal's name) by the first stop signal. */
  stop: AbortController
  /** Aborted by a second one: skip the grace period. */
  force: AbortController
  /** Said on stderr when the first signal comes; set once the options are known. */
  grace: string
  /** The run is over: stop handling (a later signal has Node's default effect). */
  dispose: () => void
  /** For commands other than run: stop handling, and if a signal already came, let it act now. */
  handOver: () => void
  /**
   * Gives the signals their default action (the process ends at once) until the returned function
   * is called: for code that may never yield to the event loop, such as a config file's own code.
   */
  suspend: () => () => void
}

/**
 * Handles SIGINT, SIGTERM and SIGHUP from the first line on. A hung-up terminal (SIGHUP) is
 * handled like SIGTERM: the run stops, running tests end as `interrupted`, the rest `notrun`,
 * results.json is written, and the exit code is 128 + the signal's number (129, 130, 143).
 */
export function armStopSignals(): StopSignals {
  if (armed) return armed
  const stop = new AbortController()
  const force = new AbortController()
  const state: StopSignals = { stop, force, grace: '', dispose, handOver, suspend }
  function onSignal(signal: NodeJS.Signals): void {
    if (signal === 'SIGHUP') process.once('exit', releaseHungUpTerminal)
    if (!stop.signal.aborted) {
      const again = signal === 'SIGINT' ? 'Ctrl-C again' : 'again'
      say(`\nclaimrun: ${signal}: stopping${state.grace ? `; running tests get ${state.grace} to end (${again} to end them now)` : ''}\n`)
      stop.abort(signal)
    } else {
      force.abort(signal)
    }
  }
  function dispose(): void {
    for (const s of STOP_SIGNALS) process.off(s, onSignal)
  }
  function handOver(): void {
    dispose()
    if (stop.signal.aborted) process.kill(process.pid, stop.signal.reason as NodeJS.Signals)
  }
  function suspend(): () => void {
    dispose()
    return () => {
      for (const s of STOP_SIGNALS) process.on(s, onSignal)
    }
  }
  for (const s of STOP_SIGNALS) process.on(s, onSignal)
  armed = state
  return state
}

let armed: StopSignals | undefined

/**
 * The exit code of a process that ended before its command finished, with nothing to say why
 * (Node exits 0 when the event loop drains while a promise, such as a config file's top-level
 * await, is still pending; code a command loaded may call process.exit(0)).
 */
export const EXIT_UNFINISHED = 3

let commandDone = false

/**
 * Arms the exit check for a command: ending with 0 before finishCommand() was called becomes one
 * line on stderr and EXIT_UNFINISHED, so an exit with nothing run never reads as a green run.
 */
export function guardUnfinished(command: string): void {
  process.once('exit', (code) => {
    if (commandDone || code !== 0) return
    say(`claimrun: ${command} ended before it finished (something it waited on never settled, or code it loaded exited); nothing was reported\n`)
    process.exitCode = EXIT_UNFINISHED
  })
}

/** The command has finished (or is exiting on purpose, with its own code): the exit check passes. */
export function finishCommand(): void {
  commandDone = true
}

/**
 * Node 20 resets the terminal's modes at exit and aborts (SIGABRT, a native stack trace) when the
 * terminal is gone (tcsetattr fails with EIO; nodejs/node#51519, fixed in Node 24 by #58200).
 * After a hang-up, stdio is closed on the way out so that reset skips it (it skips closed fds):
 * the run then ends with its own exit code, 129. Everything was written by now (stdio writes to
 * a terminal, a pipe or a file are synchronous on Linux).
 */
function releaseHungUpTerminal(): void {
  for (const fd of [0, 1, 2]) {
    try {
      closeSync(fd)
    } catch {
      // Already closed.
    }
  }
}

/**
 * A stdout or stderr whose reader has gone (`claimrun run | head -1`, a closed terminal, a dead
 * CI log collector) fails writes with EPIPE or EIO, reported asynchronously as an 'error' event
 * that would otherwise crash the process with a stack trace. Such a stream is given up quietly:
 * nothing more is written to it, and the run goes on to its normal end (results.json, history,
 * exit code), because a reader that left is not a request to stop the tests.
 */
export function guardOutput(stream: NodeJS.WriteStream): void {
  stream.on('error', () => {
    // Swallowed on purpose: later writes to a destroyed stream are dropped by Node.
  })
}

/** Writes to stderr, ignoring a stderr that is gone (see guardOutput). */
export function say(text: string): void {
  if (!process.stderr.destroyed) process.stderr.write(text)
}
