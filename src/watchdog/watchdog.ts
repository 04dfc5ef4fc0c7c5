import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmdirSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { bootWatchdog, claimSkip, markBootTold, newWatchdogCells, setPipeFd, setWakeFd, tellRunWatchdog, tellWatchdog, watchdogStarted, type WatchdogMessage } from './watchdog-wire.js'
import type { WatchdogLink } from '../vocab/watchdog-link.js'

/**
 * The watchdog's script: the CommonJS bundle the build makes (scripts/bundle.mjs), which boots on
 * less CPU than the ES module (no ES module loader, one file), so the spawner answers sooner and
 * takes less of a busy machine's start; else, in a tsc-only build, the module itself.
 */
const BUNDLED = fileURLToPath(new URL('./watchdog-process.cjs', import.meta.url))
const SCRIPT = existsSync(BUNDLED) ? BUNDLED : fileURLToPath(new URL('./watchdog-process.js', import.meta.url))

/**
 * The runner's side of its watchdog process (see watchdog-process.ts). Node has no
 * prctl(PDEATHSIG), and tests run in process groups of their own, so nothing else would end them
 * if the runner were SIGKILLed or OOM-killed. The watchdog holds the read end of a pipe whose
 * only write end is in this process: the kernel closes it however the runner dies.
 *
 * The run calls `start` right before it hands the lanes their tasks: the fork of the main thread
 * overlaps the threads' boot in most runs, and no lane forks a test before `start`
 * has returned (they wait in awaitWatchdog), so no test can start before the pipe exists. Should a
 * test run before it all the same, `start` tells the watchdog about every test already running, and
 * the token in each test's environment covers the instant in between.
 *
 * Booting Node costs the watchdog tens of milliseconds of CPU (docs/design/watchdog.md), which on a
 * small machine is taken from the runner's own start (its threads boot at the same moment) and which a short run never needs. So the
 * process starts as a shell (`WAIT_THEN_BOOT`) that holds the pipe and sleeps on a second one, and
 * `exec`s the watchdog only when a line comes on that second pipe or it closes: when this process
 * asks (`boot`: a fence to enforce, a run long enough for the spawner to pay off, or the messages
 * waiting unread in the first pipe nearing what it holds: bootWatchdog in watchdog-wire.ts), or
 * when it dies, however it dies (the kernel closes the pipe). What the runner told it meanwhile
 * waits in the first pipe. A run that ends without needing it says so (`skip`) and the shell exits
 * without booting anything.
 *
 * The watchdog is also the run's spawner (spawn-server.ts): it listens on a Unix socket in a private
 * folder made here, and the workers start their tests through it once it has been told to boot and
 * answers (before that, and if it never does, they spawn the tests themselves and tell it through
 * the pipe as above).
 */
export class Watchdog {
  private pipe: Writable | null = null
  private fd: number | undefined
  /** The shell's wake-up pipe, until the watchdog is told to boot (or to leave). */
  private wake: Writable | null = null
  private closed = false
  private started = false
  /** Shared with the worker threads: the pipe's fd once it exists, whether the spawner boots, and the token. */
  readonly link: WatchdogLink = {
    cell: newWatchdogCells(),
    token: `${process.pid}-${Math.random().toString(36).slice(2, 12)}`,
  }

  constructor(
    private readonly out: string,
    private readonly killGraceMs: number,
    /** Told the watchdog's pid once it is forked (the out folder's lock names it: see out-folder.ts). */
    private readonly onSpawn?: (pid: number) => void,
  ) {}

  /**
   * Makes the spawner socket's private folder and puts its path in the link. Called right before the
   * lanes get the link (a copy of it), which is before the watchdog is started: the run calls it
   * once nothing is left that can fail or wait before the lanes start (the pool, the claim source),
   * since until the watchdog runs, nothing but close() removes the folder (a runner that dies
   * before then leaves it behind).
   */
  openSocket(): void {
    if (this.closed || this.link.socket !== undefined) return
    this.link.socket = socketPath()
  }

  /**
   * Starts the watchdog process, publishes its pipe to the workers, then tells it every test
   * `running()` lists. A worker stores a test's pid before it looks for the pipe, and we publish
   * the pipe before we look at the pids (all sequentially consistent Atomics), so every test is told
   * at least once, by its worker or by this replay.
   */
  start(running: () => Array<{ pgid: number; id: string }>): void {
    if (this.closed || this.started) return
    this.started = true
    try {
      this.spawn(running)
    } finally {
      watchdogStarted(this.link)
    }
  }

  private spawn(running: () => Array<{ pgid: number; id: string }>): void {
    // A small heap and no V8 helper threads: the process forks every test, and a fork copies the
    // page tables of what the heap has touched (and write-protects it, so that each later write
    // faults); V8's helper threads cost more CPU per test than they save (docs/design/watchdog.md).
    // And no TurboFan: with --single-threaded it compiles on the main thread, between forks, which
    // costs more than the optimized code saves in a process whose JS per test is mostly Node's own
    // spawn setup (--no-opt is an alias V8 keeps on Node 20 to 24).
    // A profile of the run (bench/support/profile-per-test.py runs the runner under perf with these)
    // names the watchdog's functions too.
    const profiling = process.execArgv.filter((a) => a === '--perf-basic-prof' || a === '--interpreted-frames-native-stack')
    const args = [...profiling, '--max-semi-space-size=1', '--single-threaded', '--no-opt', SCRIPT, this.out, String(this.killGraceMs), String(process.pid), this.link.token]
    if (this.link.socket) args.push(this.link.socket)
    try {
      const options = {
        detached: true,
        // Nothing of the user's environment is needed, and NODE_OPTIONS or NODE_EXTRA_CA_CERTS
        // would only slow its start.
        env: process.env.CLAIMRUN_TRACE ? { CLAIMRUN_TRACE: process.env.CLAIMRUN_TRACE } : {},
      }
      let child = spawn(SHELL, ['-c', WAIT_THEN_BOOT, 'claimrun-watchdog', process.execPath, ...args], { ...options, stdio: ['pipe', 'ignore', 'ignore', 'pipe'] })
      if (child.pid === undefined) {
        // No shell here: the watchdog boots at once, as it always could.
        child.on('error', () => {})
        child = spawn(process.execPath, args, { ...options, stdio: ['pipe', 'ignore', 'ignore'] })
        markBootTold(this.link)
      } else {
        this.wake = hold(child.stdio[3] as Writable | null)
        const wake = fdOf(this.wake)
        if (wake !== undefined) setWakeFd(this.link, wake)
      }
      child.on('error', () => {})
      if (child.pid !== undefined) this.onSpawn?.(child.pid)
      // The pipe is ours, not the ChildProcess's: Node destroys a child's stdin when the child exits,
      // and a closed fd number is soon reused (by a test's stdout pipe, say) while worker threads
      // still write to it. Held here, it stays open until close(), after every lane has ended;
      // writes to a dead watchdog fail with EPIPE, which tellWatchdog ignores.
      const pipe = hold(child.stdin)
      ;(child as { stdin: Writable | null }).stdin = null
      child.unref()
      this.pipe = pipe
      this.fd = fdOf(pipe)
    } catch {
      this.removeSocket()
      return // too many processes, say: the run goes on unguarded rather than not at all
    }
    if (this.fd === undefined) return
    setPipeFd(this.link, this.fd)
    for (const { pgid, id } of running()) this.tell({ t: 'start', pgid, id })
    if (this.fence) this.tell(this.fence)
  }

  /**
   * Has the waiting shell exec the watchdog now: the run forks its tests through the spawner (its
   * fork path, chosen once), or it has a fence to enforce. A line on the wake-up pipe is the signal (the pipe's end of
   * file, as when the runner dies, is another); a worker thread may give it too (bootWatchdog, when
   * the messages waiting in the pipe reach what it holds). The workers connect to the spawner from then on.
   */
  boot(): void {
    if (this.wake) bootWatchdog(this.link)
  }

  /** The latest fence, kept for a watchdog that starts after it was set. */
  private fence: WatchdogMessage | null = null

  tell(message: WatchdogMessage): void {
    if (message.t === 'fence') {
      this.fence = message
      // Only a booted watchdog can enforce a fence should this process hang.
      if (message.by !== null) this.boot()
    }
    tellRunWatchdog(this.link, message)
  }

  /** The run ended normally: say goodbye, then close the pipe, so the watchdog exits and does nothing. */
  close(): void {
    this.closed = true
    watchdogStarted(this.link) // (never started: no lane waits for it any longer)
    // Not counted towards booting it: a watchdog that never booted is told to leave below instead.
    tellWatchdog(this.fd, { t: 'bye' })
    setPipeFd(this.link, 0)
    this.fd = undefined
    this.pipe?.destroy()
    // Never booted: the shell leaves without starting Node. (Every lane has ended: none boots it now.)
    const wake = fdOf(this.wake)
    if (wake !== undefined && claimSkip(this.link)) {
      try {
        writeSync(wake, 'skip\n')
      } catch {
        // gone already
      }
    }
    setWakeFd(this.link, 0)
    this.wake?.destroy()
    this.wake = null
    this.removeSocket()
  }

  /** The watchdog removes its socket's folder when it exits; this covers a watchdog that never ran. */
  private removeSocket(): void {
    const socket = this.link.socket
    this.link.socket = undefined
    if (socket) removeFolder(dirname(socket))
  }
}

/**
 * The socket's folder holds nothing unless the spawner ran (then its socket, which the watchdog
 * removes as it exits): rmdir alone, not rmSync's recursive walk, which loads Node's rimraf first
 * at the run's end. Anything in it after all: removed with it.
 */
function removeFolder(dir: string): void {
  try {
    rmdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * What the watchdog process is until it is told to boot: POSIX sh, waiting on fd 3 (the wake-up
 * pipe) while fd 0 (the message pipe) fills. A line `skip` (the run ended without needing it) ends
 * it; anything else, end of file included (the runner is gone), execs the watchdog with the
 * message pipe as its stdin. Its arguments come in as "$@", never through the shell's parser.
 */
const SHELL = '/bin/sh'
const WAIT_THEN_BOOT = 'read -r wake <&3; [ "$wake" = skip ] && exit 0; exec 3<&-; exec "$@"'

/** A pipe to the child held by this process alone: errors ignored, and it keeps no event loop alive. */
function hold<T extends Writable | null>(pipe: T): T {
  pipe?.on('error', () => {})
  ;(pipe as unknown as { unref?: () => void } | null)?.unref?.()
  return pipe
}

function fdOf(pipe: Writable | null): number | undefined {
  return (pipe as unknown as { _handle?: { fd?: number } } | null)?._handle?.fd
}

/** Beyond this many bytes a socket path does not fit sockaddr_un (104 on macOS, 108 on Linux). */
const MAX_SOCKET_PATH = 100

/** A socket path in a new folder only this user can enter, or undefined (a long TMPDIR, a read-only one). */
function socketPath(): string | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'claimrun-'))
    const path = join(dir, 'spawn.sock')
    if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return path
    rmSync(dir, { recursive: true, force: true })
  } catch {
    // no spawner: the workers spawn their tests themselves
  }
  return undefined
}
