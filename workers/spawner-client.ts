import { existsSync } from 'node:fs'
import { createConnection, type Socket } from 'node:net'
import { CLOSED, DONE, DROP, EXITED, FAILED, FrameBatch, FrameReader, HELLO, SPAWN, SPAWNED, STDERR, STDOUT, exitedAt, frame, writeFrames } from '../src/lanes/spawn-wire.js'
import { now } from '../src/util/time.js'
import { processesWithEnv } from '../src/util/process-group.js'
import { describeSpawnError, type LaunchEvents, type Launcher } from './launch.js'

/** How long a lane keeps trying to reach a spawner that is still booting (it spawns by itself meanwhile). */
const CONNECT_FOR_MS = 5000
const RETRY_MS = 5

/**
 * A lane's connection to the run's spawner (src/lanes/spawn-server.ts). It connects in the
 * background; until it is `ready`, and for good if the spawner never answers or goes away, the
 * lane forks its tests itself.
 */
export class SpawnerClient {
  private socket: Socket | null = null
  private ready_ = false
  private ended = false
  private retry: NodeJS.Timeout | undefined
  private nextId = 1
  private readonly pending = new Map<number, { events: LaunchEvents; command: string; testEnv: Record<string, string>; spawned: boolean; closed: boolean }>()
  private readonly deadline = Date.now() + CONNECT_FOR_MS
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024)

  constructor(
    private readonly path: string,
    private readonly token: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.connect()
  }

  get ready(): boolean {
    return this.ready_
  }

  private connect(): void {
    // While the spawner boots its socket does not exist yet: a look at the folder costs a few
    // microseconds, a refused connection (a socket, an error with its stack) a hundred or more, and
    // a lane made some ten of them per run.
    if (!existsSync(this.path)) {
      if (!this.ended && Date.now() < this.deadline) this.retry = setTimeout(() => this.connect(), RETRY_MS)
      return
    }
    const reader = new FrameReader((kind, id, payload) => this.received(kind, id, payload))
    // Read straight into one buffer (no stream 'data' events): most of what arrives is a few small
    // frames per test, and the stream machinery around each read cost more than handling them.
    // Frames are handled synchronously; what outlives the call is copied (see FrameReader).
    const onread = (n: number): boolean => {
      reader.push(this.readBuffer, n)
      return true
    }
    const socket = createConnection({ path: this.path, onread: { buffer: this.readBuffer, callback: onread } })
    socket.on('connect', () => {
      socket.write(frame(HELLO, 0, JSON.stringify({ token: this.token, env: this.env })))
      this.socket = socket
      this.ready_ = true
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socket.destroy()
      const booting = err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
      if (!this.ready_ && !this.ended && booting && Date.now() < this.deadline) this.retry = setTimeout(() => this.connect(), RETRY_MS)
    })
    socket.on('close', () => {
      if (this.socket !== socket) return
      this.socket = null
      this.ready_ = false
      for (const test of this.pending.values()) {
        // It may have forked the test and died before saying so: the test's environment finds it.
        if (!test.spawned) {
          const entries = [`CLAIMRUN_WATCHDOG=${this.token}`, ...Object.entries(test.testEnv).map(([k, v]) => `${k}=${v}`)]
          const leader = processesWithEnv(entries).find((p) => p.pid === p.pgrp)
          if (leader) {
            test.spawned = true
            test.events.spawned(leader.pid)
          }
        }
        test.events.lost(`claimrun's spawner (the run's watchdog process) ended ${test.spawned ? 'while the test ran' : 'before it said whether the test started'}`)
      }
      this.pending.clear()
    })
  }

  private received(kind: number, id: number, payload: Buffer): void {
    const test = this.pending.get(id)
    if (!test) return // dropped: what was still on its way is not wanted
    const { events } = test
    // A copy: the payload is a view into the read buffer, which the next read overwrites, and the
    // output's tail may keep a chunk as it is.
    if (kind === STDOUT || kind === STDERR) events.data(Buffer.from(payload), kind === STDOUT)
    else if (kind === SPAWNED) {
      test.spawned = true
      events.spawned(Number(payload.toString()))
    } else if (kind === EXITED) {
      const { code, signal, at } = JSON.parse(payload.toString()) as { code: number | null; signal: string | null; at: number }
      events.exited(code, signal, exitedAt(at, now()))
    } else if (kind === CLOSED) {
      test.closed = true
      events.closed()
    } else if (kind === FAILED) {
      this.pending.delete(id)
      events.failed(describeSpawnError(test.command, JSON.parse(payload.toString()) as { code?: string; message: string }))
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

  readonly launch: Launcher = (req, events) => {
    const id = this.nextId++
    this.pending.set(id, { events, command: req.argv[0] ?? '', testEnv: req.testEnv, spawned: false, closed: false })
    this.send(SPAWN, id, JSON.stringify({ argv: req.argv, cwd: req.cwd, test: req.test, env: req.testEnv }))
    return {
      drop: () => {
        const test = this.pending.get(id)
        this.pending.delete(id)
        if (test && !test.closed) this.send(DROP, id)
      },
      // Nothing waits on it (the group is gone): it goes with the next SPAWN, or before the lane waits.
      release: () => this.out.add(DONE, id),
    }
  }

  close(): void {
    this.ended = true
    clearTimeout(this.retry)
    this.flush()
    const socket = this.socket
    this.socket = null
    this.ready_ = false
    socket?.end()
  }
}
