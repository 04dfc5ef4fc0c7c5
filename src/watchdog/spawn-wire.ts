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
export const SPAWN = 2 // JSON { argv, cwd, test, env, by }: env holds only what differs from the hello's; not forked past `by` (monotonicMs)
export const DROP = 3 // stop reading this test's pipes (its group is being ended)
export const DONE = 4 // the test's group is gone: the watchdog no longer guards it
export const PING = 5 // answer PONG now: the lane is waiting on this spawner and wants to know it is awake

/** Spawner → worker. */
export const SPAWNED = 10 // decimal pid (= process group id)
export const FAILED = 11 // the one line saying why the test could not be started
export const STDOUT = 12
export const STDERR = 13
export const EXITED = 14 // JSON { code, signal, at }: `at` is when the spawner saw the exit (monotonicMs)
export const CLOSED = 15 // both pipes are closed
export const PONG = 16 // the answer to PING

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

/**
 * The header's fields are stored byte by byte: writeUInt32LE is a call into Node's buffer module
 * per field, and the spawner runs without an optimizing compiler (see watchdog.ts), where each such
 * call costs a few microseconds per frame.
 */
function putHeader(out: Uint8Array, at: number, kind: number, id: number, length: number): void {
  out[at] = kind
  out[at + 1] = id
  out[at + 2] = id >>> 8
  out[at + 3] = id >>> 16
  out[at + 4] = id >>> 24
  out[at + 5] = length
  out[at + 6] = length >>> 8
  out[at + 7] = length >>> 16
  out[at + 8] = length >>> 24
}

const u32 = (buf: Uint8Array, at: number): number => ((buf[at] as number) | ((buf[at + 1] as number) << 8) | ((buf[at + 2] as number) << 16) | ((buf[at + 3] as number) << 24)) >>> 0

export function frame(kind: number, id: number, payload: string | Uint8Array = ''): Buffer {
  const text = typeof payload === 'string'
  const length = text ? Buffer.byteLength(payload) : payload.length
  const out = Buffer.allocUnsafe(HEADER + length)
  putHeader(out, 0, kind, id, length)
  if (text) out.write(payload, HEADER)
  else out.set(payload, HEADER)
  return out
}

/**
 * Frames queued for one write, encoded straight into one reused buffer: no buffer per frame and no
 * concatenation before the write (see writeFrames, which copies whatever it must keep).
 */
export class FrameBatch {
  private buf = Buffer.allocUnsafe(4096)
  private end = 0

  get empty(): boolean {
    return this.end === 0
  }

  add(kind: number, id: number, payload?: string | Uint8Array): void {
    const text = typeof payload === 'string'
    const length = payload === undefined ? 0 : text ? Buffer.byteLength(payload) : payload.length
    const at = this.end
    if (at + HEADER + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, at + HEADER + length))
      grown.set(this.buf.subarray(0, at))
      this.buf = grown
    }
    putHeader(this.buf, at, kind, id, length)
    if (text) this.buf.write(payload, at + HEADER)
    else if (payload !== undefined) this.buf.set(payload, at + HEADER)
    this.end = at + HEADER + length
  }

  /** The frames queued, as a view valid until the next `add`; the batch is empty again. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.end)
    this.end = 0
    // A flood of output grew it: not kept at that size.
    if (this.buf.length > 256 * 1024) this.buf = Buffer.allocUnsafe(4096)
    return out
  }
}

/**
 * Splits a byte stream into frames, however the chunks fall. A frame's payload may be a view into
 * the chunk: `onFrame` must copy what it keeps past its return.
 */
export class FrameReader {
  private pending: Buffer | null = null

  constructor(private readonly onFrame: (kind: number, id: number, payload: Buffer) => void) {}

  /** The chunk's first `size` bytes (a socket's read buffer is passed as it is, not a view of it). */
  push(chunk: Buffer, size = chunk.length): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk.subarray(0, size)]) : chunk
    const end = this.pending ? buf.length : size
    let at = 0
    while (end - at >= HEADER) {
      const length = u32(buf, at + 5)
      if (end - at - HEADER < length) break
      this.onFrame(buf[at] as number, u32(buf, at + 1), buf.subarray(at + HEADER, at + HEADER + length))
      at += HEADER + length
    }
    // Copied: the rest may be a view into a chunk the socket reuses.
    this.pending = at < end ? Buffer.from(buf.subarray(at, end)) : null
  }
}

/**
 * Writes to a connected socket with write(2) on its file descriptor while nothing is queued in the
 * stream, and through the stream (in order, behind what it holds) otherwise. A stream write costs
 * tens of microseconds of JavaScript (a write request, callbacks, state; docs/design/per-test-cost.md), and the spawner writes twice per
 * test and a lane once: a large part of their own CPU per test. Frames are small, so the kernel's
 * socket buffer takes them whole unless the peer stops reading; then (EAGAIN, or a partial write)
 * the rest goes to the stream, which queues it until the socket drains, and what follows goes
 * behind it. Any other error (the peer is gone) is left to the stream to report.
 * Returns false when the stream asks the writer to wait for 'drain'. `data` is the caller's again
 * once this returns: what the stream keeps is a copy.
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
  // A copy: the caller may reuse `data` once this returns (FrameBatch does).
  return socket.write(Buffer.from(done > 0 ? data.subarray(done) : data))
}
