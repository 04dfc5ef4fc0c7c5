/**
 * The wire between a worker thread and the run's spawner (the watchdog process, which also starts
 * tests: see spawn-server.ts). One Unix socket per lane, carrying frames both ways:
 * a 9-byte header (kind u8, test number u32, payload length u32, little-endian) and the payload.
 * Binary because most frames are a test's output, passed on as it is.
 * Imports nothing of claimrun but util/time.ts: the watchdog process loads it.
 */
import { writeSync } from 'node:fs'
import type { Socket } from 'node:net'
import { monotonicMs } from '../util/time.js'

/** Worker → spawner. */
export const HELLO = 1 // JSON { token, env }: the lane's environment, once
export const SPAWN = 2 // JSON { argv, cwd, test, env }: env holds only what differs from the hello's
export const DROP = 3 // stop reading this test's pipes (its group is being ended)
export const DONE = 4 // the test's group is gone: the watchdog no longer guards it

/** Spawner → worker. */
export const SPAWNED = 10 // decimal pid (= process group id)
export const FAILED = 11 // JSON { code, message }: the test could not be started
export const STDOUT = 12
export const STDERR = 13
export const EXITED = 14 // JSON { code, signal, at }: `at` is when the spawner saw the exit (monotonicMs)
export const CLOSED = 15 // both pipes are closed

/**
 * An exit stamped `at` (monotonicMs: performance.now() counts from each process's own start, so a
 * time crosses processes on CLOCK_MONOTONIC) in another process, on the receiving thread's `now()` clock
 * (performance.timeOrigin + performance.now(), which also runs on CLOCK_MONOTONIC from its origin):
 * its age on the shared clock, taken from now. Never in the future.
 */
export function exitedAt(at: number, nowMs: number): number {
  return nowMs - Math.max(0, monotonicMs() - at)
}

const HEADER = 9

export function frame(kind: number, id: number, payload: string | Uint8Array = ''): Buffer {
  const text = typeof payload === 'string'
  const length = text ? Buffer.byteLength(payload) : payload.length
  const out = Buffer.allocUnsafe(HEADER + length)
  out[0] = kind
  out.writeUInt32LE(id, 1)
  out.writeUInt32LE(length, 5)
  if (text) out.write(payload, HEADER)
  else out.set(payload, HEADER)
  return out
}

/**
 * Splits a byte stream into frames, however the chunks fall. A frame's payload may be a view into
 * the chunk: `onFrame` must copy what it keeps past its return.
 */
export class FrameReader {
  private pending: Buffer | null = null

  constructor(private readonly onFrame: (kind: number, id: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk
    const end = buf.length
    let at = 0
    while (end - at >= HEADER) {
      const length = buf.readUInt32LE(at + 5)
      if (end - at - HEADER < length) break
      this.onFrame(buf[at] as number, buf.readUInt32LE(at + 1), buf.subarray(at + HEADER, at + HEADER + length))
      at += HEADER + length
    }
    // Copied: the rest may be a view into a chunk the socket reuses.
    this.pending = at < end ? Buffer.from(buf.subarray(at)) : null
  }
}

/**
 * Writes to a connected socket with write(2) on its file descriptor while nothing is queued in the
 * stream, and through the stream (in order, behind what it holds) otherwise. A stream write costs
 * ~30-40 µs of JavaScript (a write request, callbacks, state), and the spawner writes twice per
 * test and a lane once: a large part of their own CPU per test. Frames are small, so the kernel's
 * socket buffer takes them whole unless the peer stops reading; then (EAGAIN, or a partial write)
 * the rest goes to the stream, which queues it until the socket drains, and what follows goes
 * behind it. Any other error (the peer is gone) is left to the stream to report.
 * Returns false when the stream asks the writer to wait for 'drain'.
 */
export function writeFrames(socket: Socket, data: Buffer): boolean {
  // The fd is read at each call, never kept: a destroyed socket has no handle, and a closed fd
  // number may already belong to another file.
  const fd = socket.writableLength === 0 && !socket.destroyed && !socket.connecting ? (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd : undefined
  let done = 0
  if (fd !== undefined && fd >= 0) {
    try {
      done = writeSync(fd, data)
    } catch {
      done = 0
    }
    if (done === data.length) return true
  }
  return socket.write(done > 0 ? data.subarray(done) : data)
}
