import { existsSync } from 'node:fs'
import { createConnection, type Socket } from 'node:net'
import { CLOSED, DONE, DROP, EXITED, FAILED, FrameBatch, FrameReader, HELLO, PING, PONG, SPAWN, SPAWNED, STDERR, STDOUT, exitedAt, frame, writeFrames } from './spawn-wire.js'
import { monotonicMs, now } from '../util/time.js'
import { processesWithEnv } from '../util/process-group.js'
import type { LaunchEvents, Launcher } from '../vocab/launcher.js'

/** How long a lane waits for the spawner to boot and accept it before it forks its tests itself. */
const CONNECT_FOR_MS = 5000
const RETRY_MS = 5
/**
 * How long the spawner has to answer a lane that waits on it (a SPAWN, a PING) before the lane takes
 * it as stalled and forks its tests itself (docs/design/spawner.md says why this long).
 */
export const ANSWER_WITHIN_MS = 1000
/** A PING's test number: tests count from 1. */
const PROBE = 0

interface Pending {
  events: LaunchEvents
  testEnv: Record<string, string>
  spawned: boolean
  closed: boolean
}

/**
 * A lane's connection to the run's spawner (src/watchdog/spawn-server.ts), made when the run's fork
 * path is the spawner. Until it has connected the lane waits (`connected`); if it never does, or the
 * spawner goes away or misses the deadline on an answer, the lane forks its tests itself from then on.
 */
export class SpawnerClient {
  private socket: Socket | null = null
  private ended = false
  private retry: NodeJS.Timeout | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  /** Answers due (test number, or PROBE), by when on this thread's clock. */
  private readonly due = new Map<number, number>()
  private dueTimer: NodeJS.Timeout | undefined
  private readonly connectBy = Date.now() + CONNECT_FOR_MS
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024)
  private settleConnected!: (ok: boolean) => void
  /** Whether the lane is to use the spawner: false once it could not be reached in time. */
  readonly connected = new Promise<boolean>((resolve) => (this.settleConnected = resolve))

  constructor(
    private readonly path: string,
    private readonly token: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.connect()
  }

  /** Whether tests go through the spawner now: connected, and it has not gone or stalled. */
  get usable(): boolean {
    return this.socket !== null
  }

  private retryOrGiveUp(): void {
    if (!this.ended && Date.now() < this.connectBy) this.retry = setTimeout(() => this.connect(), RETRY_MS)
    else this.settleConnected(false)
  }

  private connect(): void {
    // While the spawner boots its socket does not exist yet: a look at the folder costs far less
    // than a refused connection (a socket, an error with its stack).
    if (!existsSync(this.path)) return this.retryOrGiveUp()
    const reader = new FrameReader((kind, id, payload) => this.received(kind, id, payload))
    // Read straight into one buffer (no stream 'data' events): most of what arrives is a few small
    // frames per test. Frames are handled synchronously; what outlives the call is copied (see FrameReader).
    const onread = (n: number): boolean => {
      reader.push(this.readBuffer, n)
      return true
    }
    const socket = createConnection({ path: this.path, onread: { buffer: this.readBuffer, callback: onread } })
    socket.on('connect', () => {
      socket.write(frame(HELLO, 0, JSON.stringify({ token: this.token, env: this.env })))
      this.socket = socket
      this.settleConnected(true)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socket.destroy()
      const booting = err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
      if (this.socket === null && booting) this.retryOrGiveUp()
      else this.settleConnected(false)
    })
    socket.on('close', () => {
      if (this.socket === socket) this.lose(`claimrun's spawner (the run's watchdog process) ended`)
    })
  }

  /** The spawner is gone or stalled: the lane forks by itself from now on, and each test waiting on it is told. */
  private lose(reason: string): void {
    const socket = this.socket
    this.socket = null
    socket?.destroy()
    clearTimeout(this.dueTimer)
    this.dueTimer = undefined
    this.due.clear()
    for (const test of this.pending.values()) {
      // It may have forked the test and not said so: the test's environment finds it.
      if (!test.spawned) {
        const entries = [`CLAIMRUN_WATCHDOG=${this.token}`, ...Object.entries(test.testEnv).map(([k, v]) => `${k}=${v}`)]
        const leader = processesWithEnv(entries).find((p) => p.pid === p.pgrp)
        if (leader) {
          test.spawned = true
          test.events.spawned(leader.pid)
        }
      }
      test.events.lost(`${reason} ${test.spawned ? 'while the test ran' : 'before it started the test'}`)
    }
    this.pending.clear()
  }

  /** An answer is now due from the spawner, within ANSWER_WITHIN_MS. */
  private expect(id: number): void {
    this.due.set(id, now() + ANSWER_WITHIN_MS)
    this.dueTimer ??= setTimeout(() => this.checkDue(), ANSWER_WITHIN_MS)
  }

  private answered(id: number): void {
    this.due.delete(id)
    if (this.due.size > 0) return
    clearTimeout(this.dueTimer)
    this.dueTimer = undefined
  }

  private checkDue(): void {
    // Judged after this loop's next poll: an answer that came while this thread was busy is read first.
    setImmediate(() => {
      this.dueTimer = undefined
      const t = now()
      let next = Infinity
      for (const by of this.due.values()) {
        if (by <= t) return this.lose(`claimrun's spawner (the run's watchdog process) did not answer within ${ANSWER_WITHIN_MS} ms (stopped or stuck)`)
        next = Math.min(next, by)
      }
      if (next < Infinity) this.dueTimer = setTimeout(() => this.checkDue(), next - t)
    })
  }

  private received(kind: number, id: number, payload: Buffer): void {
    if (kind === PONG) return this.answered(PROBE)
    const test = this.pending.get(id)
    if (!test) return // dropped: what was still on its way is not wanted
    const { events } = test
    // A copy: the payload is a view into the read buffer, which the next read overwrites, and the
    // output's tail may keep a chunk as it is.
    if (kind === STDOUT || kind === STDERR) events.data(Buffer.from(payload), kind === STDOUT)
    else if (kind === SPAWNED) {
      this.answered(id)
      test.spawned = true
      events.spawned(Number(payload.toString()))
    } else if (kind === EXITED) {
      const { code, signal, at } = JSON.parse(payload.toString()) as { code: number | null; signal: string | null; at: number }
      events.exited(code, signal, exitedAt(at, now()))
    } else if (kind === CLOSED) {
      test.closed = true
      events.closed()
    } else if (kind === FAILED) {
      this.answered(id)
      this.pending.delete(id)
      events.failed(payload.toString())
    }
  }

  /** Frames not sent yet: DONE frames wait for the lane's next SPAWN (one write, one wake-up of the spawner). */
  private readonly out = new FrameBatch()

  /** Sends the DONE frames still held (the lane is about to wait, or to end). */
  flush(): void {
    if (this.out.empty) return
    const data = this.out.take()
    if (this.socket) writeFrames(this.socket, data)
  }

  private send(kind: number, id: number, payload?: string): void {
    this.out.add(kind, id, payload)
    this.flush()
  }

  /** Asks the spawner to show it is awake (a test it forked was signalled, or the run is stopping). */
  probe(): void {
    if (!this.socket || this.due.has(PROBE)) return
    this.expect(PROBE)
    this.send(PING, PROBE)
  }

  readonly launch: Launcher = (req, events) => {
    const id = this.nextId++
    this.pending.set(id, { events, testEnv: req.testEnv, spawned: false, closed: false })
    this.expect(id)
    // The spawner forks nothing past our deadline (less a margin for the frame's way back), so a
    // test the lane then forks itself is never forked twice.
    const by = monotonicMs() + ANSWER_WITHIN_MS * 0.75
    this.send(SPAWN, id, JSON.stringify({ argv: req.argv, cwd: req.cwd, test: req.test, env: req.testEnv, by }))
    return {
      drop: () => {
        const test = this.pending.get(id)
        this.pending.delete(id)
        if (test && !test.closed) this.send(DROP, id)
      },
      // Nothing waits on it (the group is gone): it goes with the next SPAWN, or before the lane waits.
      release: () => this.out.add(DONE, id),
      probe: () => this.probe(),
    }
  }

  close(): void {
    this.ended = true
    clearTimeout(this.retry)
    clearTimeout(this.dueTimer)
    this.settleConnected(false)
    this.flush()
    const socket = this.socket
    this.socket = null
    socket?.end()
  }
}
