import { writeSync } from 'node:fs'

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

/** What worker threads get of the watchdog: where its pipe's fd will appear, and the run's token. */
export interface WatchdogLink {
  /**
   * Int32 cell 0: the pipe's fd once the watchdog runs, 0 before (fd 0 is stdin, never the pipe).
   * Cell 1: 1 once the watchdog process has been told to boot (its spawner may answer from then on),
   * 2 once it has been told to leave without booting (the run ended first).
   * Cell 2: 1 once the runner has started it (or could not): no test is forked before (awaitWatchdog).
   * Cell 3: the waiting shell's wake-up pipe's fd, 0 when there is none (see watchdog.ts).
   * Cell 4: messages written to the pipe before the watchdog was told to boot.
   */
  cell: SharedArrayBuffer
  /** Put in every test's environment as CLAIMRUN_WATCHDOG, for the watchdog to find them by. */
  token: string
  /** The spawner's socket (the watchdog serves it once it has booted), when there is one. */
  socket?: string | undefined
}

/** The watchdog pipe's fd, if the watchdog runs yet. */
export function watchdogFd(link: WatchdogLink | undefined): number | undefined {
  if (!link) return undefined
  return Atomics.load(new Int32Array(link.cell), 0) || undefined
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
  const cells = new Int32Array(link.cell)
  const deadline = Date.now() + WATCHDOG_WAIT_MS
  while (Atomics.load(cells, 2) === 0 && Date.now() < deadline) Atomics.wait(cells, 2, 0, deadline - Date.now())
}

/** Says the watchdog has been started (or could not be): lanes waiting in awaitWatchdog go on. */
export function watchdogStarted(link: WatchdogLink): void {
  const cells = new Int32Array(link.cell)
  Atomics.store(cells, 2, 1)
  Atomics.notify(cells, 2)
}

/**
 * Messages the pipe takes before Node boots in the watchdog to read them. Until then the process at
 * the other end is a shell that reads only its wake-up pipe, so nothing drains this one: a socket
 * pair held ~278 of them here (each small write takes a buffer of its own), and macOS's default
 * holds 8 KiB. A run with no more tests than lanes does not boot the watchdog for its spawner, but
 * its retries, or many lanes, can send this many; so can lanes forking their own tests while the
 * spawner boots. Past this budget the watchdog boots, whatever the run's size.
 */
const BOOT_AFTER_MESSAGES = 48

/**
 * Has the waiting shell exec the watchdog (once; from any thread): a line on its wake-up pipe. The
 * spawner may answer from then on. False if it was told already, or told to leave.
 */
export function bootWatchdog(link: WatchdogLink): boolean {
  const cells = new Int32Array(link.cell)
  if (Atomics.compareExchange(cells, 1, 0, 1) !== 0) return false
  const wake = Atomics.load(cells, 3)
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
  const cells = new Int32Array(link.cell)
  if (Atomics.load(cells, 1) === 0 && Atomics.add(cells, 4, 1) + 1 >= BOOT_AFTER_MESSAGES) bootWatchdog(link)
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
