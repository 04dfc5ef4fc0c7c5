import { writeSync } from 'node:fs'
import type { WatchdogLink } from '../vocab/watchdog-link.js'

/**
 * What the runner tells its watchdog process, one JSON object per line on the watchdog's stdin.
 * Each line is written with one write(2) of less than PIPE_BUF bytes, so lines from the main
 * thread and from worker threads never interleave.
 */
export type WatchdogMessage =
  /** A test's process group exists (sent by the worker thread right after spawn). */
  | { t: 'start'; pgid: number; id: string }
  /** The group is gone (every member ended). */
  | { t: 'end'; pgid: number }
  /**
   * Shared runs: end every group still alive once the monotonic clock (ms, CLOCK_MONOTONIC, the
   * same in every process) passes `by` without a newer fence; null disarms.
   */
  | { t: 'fence'; by: number | null; graceMs: number }
  /** The runner is finishing normally: when the pipe closes, nothing is to be done. */
  | { t: 'bye' }

/**
 * The cells of `WatchdogLink.cell`, shared by the main thread and every worker thread (Int32 each).
 * Only the functions of this module read or write them.
 */
/** The watchdog pipe's fd once the watchdog runs, 0 before and after (fd 0 is stdin, never the pipe). */
const PIPE_FD = 0
/** Whether the waiting shell has been told to boot the watchdog (BOOT_*): the spawner may answer only once it has. */
const BOOT = 1
const BOOT_WAITING = 0
const BOOT_TOLD = 1
const BOOT_SKIPPED = 2
/** 1 once the runner has started the watchdog (or could not): no test is forked before (awaitWatchdog). */
const STARTED = 2
/** The waiting shell's wake-up pipe's fd, 0 when there is none (see watchdog.ts). */
const WAKE_FD = 3
/** Messages written to the pipe before the watchdog was told to boot. */
const QUEUED = 4
const CELL_COUNT = 5

/** A new link's cells, every one 0: no pipe yet, not told to boot, not started, no wake-up pipe, nothing queued. */
export function newWatchdogCells(): SharedArrayBuffer {
  return new SharedArrayBuffer(CELL_COUNT * Int32Array.BYTES_PER_ELEMENT)
}

const cellsOf = (link: WatchdogLink): Int32Array => new Int32Array(link.cell)

/** Publishes the watchdog pipe's fd to the workers (0: no pipe any more). */
export function setPipeFd(link: WatchdogLink, fd: number): void {
  Atomics.store(cellsOf(link), PIPE_FD, fd)
}

/** Publishes the waiting shell's wake-up pipe's fd (0: none any more). */
export function setWakeFd(link: WatchdogLink, fd: number): void {
  Atomics.store(cellsOf(link), WAKE_FD, fd)
}

/** Records that the watchdog boots at once (no waiting shell): its spawner may answer from now on. */
export function markBootTold(link: WatchdogLink): void {
  Atomics.store(cellsOf(link), BOOT, BOOT_TOLD)
}

/**
 * Claims the right to tell the waiting shell to leave without booting: true for exactly one caller,
 * and only if no thread has told it to boot (the same compareExchange as bootWatchdog's, so the two never both win).
 */
export function claimSkip(link: WatchdogLink): boolean {
  return Atomics.compareExchange(cellsOf(link), BOOT, BOOT_WAITING, BOOT_SKIPPED) === BOOT_WAITING
}

/** The watchdog pipe's fd, if the watchdog runs yet. */
export function watchdogFd(link: WatchdogLink | undefined): number | undefined {
  if (!link) return undefined
  return Atomics.load(cellsOf(link), PIPE_FD) || undefined
}

/** How long a lane waits for the runner to start its watchdog before forking a test anyway (it never takes this long). */
const WATCHDOG_WAIT_MS = 10_000

/**
 * Blocks this (worker) thread until the runner has started its watchdog process (which it does
 * right before the lanes get their tasks, so a lane rarely waits here): then the test the lane
 * forks next is guarded from its first instant.
 */
export function awaitWatchdog(link: WatchdogLink | undefined): void {
  if (!link) return
  const cells = cellsOf(link)
  const deadline = Date.now() + WATCHDOG_WAIT_MS
  while (Atomics.load(cells, STARTED) === 0 && Date.now() < deadline) Atomics.wait(cells, STARTED, 0, deadline - Date.now())
}

/** Says the watchdog has been started (or could not be): lanes waiting in awaitWatchdog go on. */
export function watchdogStarted(link: WatchdogLink): void {
  const cells = cellsOf(link)
  Atomics.store(cells, STARTED, 1)
  Atomics.notify(cells, STARTED)
}

/**
 * Messages the pipe takes before Node boots in the watchdog to read them. Until then the process at
 * the other end is a shell that reads only its wake-up pipe, so nothing drains this one: a socket
 * pair holds only a few hundred of them (each small write takes a buffer of its own; see
 * docs/design/watchdog.md), and macOS's default holds 8 KiB. A run whose lanes fork their own tests
 * does not boot the watchdog for its spawner, but its retries, or many lanes, can send this many.
 * Past this budget the watchdog boots, whatever the run's fork path.
 */
const BOOT_AFTER_MESSAGES = 48

/**
 * Has the waiting shell exec the watchdog (once; from any thread): a line on its wake-up pipe. The
 * spawner may answer from then on. False if it was told already, or told to leave.
 */
export function bootWatchdog(link: WatchdogLink): boolean {
  const cells = cellsOf(link)
  if (Atomics.compareExchange(cells, BOOT, BOOT_WAITING, BOOT_TOLD) !== BOOT_WAITING) return false
  const wake = Atomics.load(cells, WAKE_FD)
  if (wake !== 0) {
    try {
      writeSync(wake, 'boot\n')
    } catch {
      // The shell is gone: so is the watchdog, and nothing reads the messages either way.
    }
  }
  return true
}

/**
 * Tells the run's watchdog one message (see tellWatchdog), booting it first if the messages sent
 * while it waited as a shell have reached what its pipe can hold unread.
 */
export function tellRunWatchdog(link: WatchdogLink | undefined, message: WatchdogMessage): void {
  const fd = watchdogFd(link)
  if (fd === undefined || !link) return
  const cells = cellsOf(link)
  if (Atomics.load(cells, BOOT) === BOOT_WAITING && Atomics.add(cells, QUEUED, 1) + 1 >= BOOT_AFTER_MESSAGES) bootWatchdog(link)
  tellWatchdog(fd, message)
}

/** Longest id sent; keeps every line under PIPE_BUF (4096) so a write is atomic. */
const MAX_ID = 3000

const pause = new Int32Array(new SharedArrayBuffer(4))

/**
 * Writes one message to the watchdog's pipe, synchronously (a start must be in the pipe before the
 * test can outlive us). Best effort: a watchdog that is gone (EPIPE) is not the test's problem, and
 * a full pipe (the watchdog is stuck) is retried for at most a second.
 */
export function tellWatchdog(fd: number | undefined, message: WatchdogMessage): void {
  if (fd === undefined) return
  if (message.t === 'start' && message.id.length > MAX_ID) message = { ...message, id: `${message.id.slice(0, MAX_ID)}…` }
  const line = Buffer.from(JSON.stringify(message) + '\n')
  for (let tries = 0; tries < 1000; tries++) {
    try {
      writeSync(fd, line)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return
      Atomics.wait(pause, 0, 0, 1)
    }
  }
}
