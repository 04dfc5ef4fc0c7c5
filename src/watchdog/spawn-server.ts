/**
 * The spawner half of the watchdog process: worker threads ask it to start their tests, so the fork
 * for each test happens in this small single-threaded process, not in the runner.
 *
 * Why: Node 20 (libuv 1.46) forks the whole calling process for every spawn. Forking the runner,
 * four V8 isolates on several threads, copies and write-protects far more memory than forking this
 * process, and every page the runner's threads then write faults, with a TLB shootdown across the
 * CPUs they run on: about half of claimrun's CPU per test went there (bench/RESULTS.md has the
 * profile). Here a spawn costs what it costs a plain Node script.
 *
 * And the watchdog now *is* the parent of every test it starts: it knows the test's process group
 * the moment it exists (no window in which the runner could die before telling it).
 *
 * One connection per lane (a Unix socket in a private folder, plus the run's token as a first frame:
 * only this run's threads can start anything here). Imports nothing of claimrun but the wire and its clock.
 */
import type { ChildProcess } from 'node:child_process'
import { createServer, Socket, type Server, type SocketConstructorOpts } from 'node:net'
import { CLOSED, DONE, DROP, EXITED, FAILED, FrameBatch, FrameReader, HELLO, PING, PONG, SPAWN, SPAWNED, STDERR, STDOUT, writeFrames } from './spawn-wire.js'
import { spawnGroup, whenPipesClosed } from '../util/spawn-group.js'
import { monotonicMs } from '../util/time.js'

/**
 * How long a SPAWNED or EXITED frame may wait for the test's next frames (its exit, its pipes'
 * closing, which come in later turns of the loop than the fork and than each other). The worker
 * learns the pid, or the exit, that much later at most: for the pid, its timeout (timed from the
 * request) and ending the test on a stop (which polls for it) wait that long; for the exit, it needs
 * the pipes closed as well before it settles the test anyway, and the frame carries the exit's own
 * time, which is what the test's end and its timeout go by (workers/spawn-test.ts).
 */
const HOLD_MS = 3

interface SpawnRequest {
  argv: string[]
  cwd: string
  test: string
  env: Record<string, string>
  /** The lane's deadline (monotonicMs) for our answer: past it, the test is not forked here. */
  by: number
}

const LATE = "claimrun's spawner answered past the lane's deadline, so the lane forked the test itself"

/**
 * Serves spawns on `path`. Each test's group goes into `groups` (pgid → test id) as it is forked and
 * leaves it when the worker says the group is gone: what the watchdog ends if the runner dies.
 */
export function serveSpawns(path: string, token: string, groups: Map<number, string>): Server {
  // Accepted paused, and its handle read straight into one buffer by a socket of our own (no stream
  // 'data' events): a lane's frames come a few at a time, once per test, and the stream machinery
  // around each read (a chunk, a push, an event) cost the spawner more than handling them. The
  // paused socket is left as it is (nothing reads or writes it); the one made here owns the handle.
  const server = createServer({ pauseOnConnect: true }, (accepted) => {
    const handle = (accepted as unknown as { _handle?: unknown })._handle
    if (!handle) return void accepted.destroy()
    serveLane(handle, token, groups)
  })
  server.on('error', () => server.close()) // the workers then spawn in their own threads
  server.listen(path)
  return server
}

function serveLane(handle: unknown, token: string, groups: Map<number, string>): void {
  let env: Record<string, string> | null = null
  const children = new Map<number, ChildProcess>()
  const pids = new Map<number, number>()
  let paused = false
  // Frames are handled synchronously (the reader is made below, before the first read can come);
  // what outlives the call is copied (see FrameReader).
  const readBuffer = Buffer.allocUnsafe(64 * 1024)
  const onread = (n: number): boolean => {
    try {
      reader.push(readBuffer, n)
    } catch {
      socket.destroy() // not our protocol
    }
    return true
  }
  const options = { handle, readable: true, writable: true, onread: { buffer: readBuffer, callback: onread } }
  const socket = new Socket(options as SocketConstructorOpts)
  socket.on('error', () => socket.destroy())
  const flow = (child: ChildProcess, on: boolean): void => {
    for (const pipe of [child.stdout, child.stderr]) if (on) pipe?.resume()
    else pipe?.pause()
  }

  // Frames made in one turn of the event loop go out in one write, so the worker wakes once for
  // them. SPAWNED and EXITED wait up to HOLD_MS for more: a test that ends by then (most take a
  // few milliseconds) costs the worker one wake-up and the spawner one write, not three.
  const batch = new FrameBatch()
  let immediate = false
  let hold: NodeJS.Timeout | undefined
  const flush = (): void => {
    immediate = false
    if (hold !== undefined) {
      clearTimeout(hold)
      hold = undefined
    }
    if (batch.empty) return
    const frames = batch.take()
    if (socket.destroyed) return
    if (writeFrames(socket, frames) || paused) return
    // A worker that reads slowly holds its test's output back here, in the pipe, not in our memory.
    paused = true
    for (const child of children.values()) flow(child, false)
    socket.once('drain', () => {
      paused = false
      for (const child of children.values()) flow(child, true)
    })
  }
  /**
   * `last`: nothing more will come for this test (its exit and its pipes' closing are both in), so
   * the batch goes out now, in this callback: the lane waits for it, and a setImmediate would cost
   * the loop one more turn (a non-blocking poll) per test just to write it.
   */
  const send = (kind: number, id: number, payload?: string | Uint8Array, last = false): void => {
    if (socket.destroyed) return
    batch.add(kind, id, payload)
    if (last) return flush()
    if (immediate) return
    if (kind !== SPAWNED && kind !== EXITED) {
      immediate = true
      setImmediate(flush)
    } else if (hold === undefined) hold = setTimeout(flush, HOLD_MS)
  }

  const start = (id: number, req: SpawnRequest, base: Record<string, string>): void => {
    // Past its deadline the lane has given up on us (we were stopped, or stuck) and forks the test itself.
    if (monotonicMs() > req.by) return send(FAILED, id, LATE)
    const failed = (message: string): void => send(FAILED, id, message)
    const child = spawnGroup(req.argv, { cwd: req.cwd, env: Object.assign(base, req.env) }, failed)
    if (!child) return
    const pid = child.pid
    if (monotonicMs() > req.by) {
      // Stalled inside the fork itself: the lane may be starting it too, so this copy goes at once.
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        // gone already
      }
      return send(FAILED, id, LATE)
    }
    groups.set(pid, req.test)
    pids.set(id, pid)
    children.set(id, child)
    send(SPAWNED, id, String(pid))
    child.stdout?.on('data', (chunk: Buffer) => send(STDOUT, id, chunk))
    child.stderr?.on('data', (chunk: Buffer) => send(STDERR, id, chunk))
    if (paused) flow(child, false)
    // Stamped now: the frame may wait up to HOLD_MS, and the lane may be busy when it comes. Held
    // only while the test's pipes are open (their CLOSED usually follows at once, in the same write);
    // once they have closed, it is the test's last frame, and holding it would only delay the lane's
    // next test.
    let exited = false
    let pipesClosed = false
    child.on('exit', (code, signal) => {
      exited = true
      send(EXITED, id, JSON.stringify({ code, signal, at: monotonicMs() }), pipesClosed)
    })
    whenPipesClosed(child, () => {
      pipesClosed = true
      children.delete(id)
      send(CLOSED, id, undefined, exited)
    })
  }

  const reader = new FrameReader((kind, id, payload) => {
    if (env === null) {
      // The first frame must prove the peer is this run's: anything else is hung up on.
      const hello = kind === HELLO ? (JSON.parse(payload.toString()) as { token?: string; env?: Record<string, string> }) : null
      if (!hello || hello.token !== token || !hello.env) return void socket.destroy()
      env = hello.env
    } else if (kind === SPAWN) {
      start(id, JSON.parse(payload.toString()) as SpawnRequest, env)
    } else if (kind === DROP) {
      const child = children.get(id)
      children.delete(id)
      child?.stdout?.destroy()
      child?.stderr?.destroy()
    } else if (kind === PING) {
      send(PONG, id, undefined, true)
    } else if (kind === DONE) {
      const pid = pids.get(id)
      pids.delete(id)
      if (pid !== undefined) groups.delete(pid)
    }
  })
}
