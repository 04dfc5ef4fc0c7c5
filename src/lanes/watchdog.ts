import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { tellWatchdog, type WatchdogLink, type WatchdogMessage } from './watchdog-wire.js'

const SCRIPT = fileURLToPath(new URL('./watchdog-process.js', import.meta.url))

/**
 * The runner's side of its watchdog process (see watchdog-process.ts). Node has no
 * prctl(PDEATHSIG), and tests run in process groups of their own, so nothing else would end them
 * if the runner were SIGKILLed or OOM-killed. The watchdog holds the read end of a pipe whose
 * only write end is in this process: the kernel closes it however the runner dies.
 *
 * The run calls `start` just before it creates the worker pool: a fork is cheapest while no worker
 * thread exists (1-10 ms of the main thread here), and no test can start before the pipe does.
 * Should a caller start it later, workers find no pipe in the link until then and say nothing;
 * `start` tells the watchdog about every test already running, and the token in each test's
 * environment covers the instant in between.
 *
 * The watchdog is also the run's spawner (spawn-server.ts): it listens on a Unix socket in a private
 * folder made here, and the workers start their tests through it once it answers (before that, and
 * if it never does, they spawn the tests themselves and tell it through the pipe as above).
 */
export class Watchdog {
  private pipe: Writable | null = null
  private fd: number | undefined
  private closed = false
  private started = false
  /** Shared with the worker threads: the pipe's fd once it exists, and the token. */
  readonly link: WatchdogLink = {
    cell: new SharedArrayBuffer(4),
    token: `${process.pid}-${Math.random().toString(36).slice(2, 12)}`,
  }

  constructor(
    private readonly out: string,
    private readonly killGraceMs: number,
  ) {}

  /**
   * Starts the watchdog process, publishes its pipe to the workers, then tells it every test
   * `running()` lists. A worker stores a test's pid before it looks for the pipe, and we publish
   * the pipe before we look at the pids (all sequentially consistent Atomics), so every test is told
   * at least once, by its worker or by this replay.
   */
  start(running: () => Array<{ pgid: number; id: string }>): void {
    if (this.closed || this.started) return
    this.started = true
    this.link.socket = socketPath()
    // A small heap and no V8 helper threads: the process forks every test, and a fork copies the
    // page tables of what the heap has touched (and write-protects it, so that each later write
    // faults). Its helper threads' CPU per test fell from ~200 to ~16 µs
    // (bench/support/profile-per-test.py).
    const args = ['--max-semi-space-size=1', '--single-threaded', SCRIPT, this.out, String(this.killGraceMs), String(process.pid), this.link.token]
    if (this.link.socket) args.push(this.link.socket)
    try {
      const child = spawn(process.execPath, args, {
        stdio: ['pipe', 'ignore', 'ignore'],
        detached: true,
        // Nothing of the user's environment is needed, and NODE_OPTIONS or NODE_EXTRA_CA_CERTS
        // would only slow its start.
        env: {},
      })
      child.on('error', () => {})
      // The pipe is ours, not the ChildProcess's: Node destroys a child's stdin when the child exits,
      // and a closed fd number is soon reused (by a test's stdout pipe, say) while worker threads
      // still write to it. Held here, it stays open until close(), after every lane has ended;
      // writes to a dead watchdog fail with EPIPE, which tellWatchdog ignores.
      const pipe = child.stdin
      ;(child as { stdin: Writable | null }).stdin = null
      pipe?.on('error', () => {})
      child.unref()
      ;(pipe as unknown as { unref?: () => void } | null)?.unref?.()
      this.pipe = pipe
      this.fd = (pipe as unknown as { _handle?: { fd?: number } } | null)?._handle?.fd
    } catch {
      this.removeSocket()
      return // too many processes, say: the run goes on unguarded rather than not at all
    }
    if (this.fd === undefined) return
    Atomics.store(new Int32Array(this.link.cell), 0, this.fd)
    for (const { pgid, id } of running()) this.tell({ t: 'start', pgid, id })
    if (this.fence) this.tell(this.fence)
  }

  /** The latest fence, kept for a watchdog that starts after it was set. */
  private fence: WatchdogMessage | null = null

  tell(message: WatchdogMessage): void {
    if (message.t === 'fence') this.fence = message
    tellWatchdog(this.fd, message)
  }

  /** The run ended normally: say goodbye, then close the pipe, so the watchdog exits and does nothing. */
  close(): void {
    this.closed = true
    this.tell({ t: 'bye' })
    Atomics.store(new Int32Array(this.link.cell), 0, 0)
    this.fd = undefined
    this.pipe?.destroy()
    this.removeSocket()
  }

  /** The watchdog removes its socket's folder when it exits; this covers a watchdog that never ran. */
  private removeSocket(): void {
    const socket = this.link.socket
    this.link.socket = undefined
    if (socket) rmSync(dirname(socket), { recursive: true, force: true })
  }
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
