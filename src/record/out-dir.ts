import { closeSync, constants, lstatSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'

/** Pieces are gathered up to this many characters per write. */
const WRITE_CHARS = 64 * 1024
/** A pipe whose reader takes nothing for this long is given up on (a write error, not a hang). */
const STALLED_READER_MS = 10_000

/**
 * Writes a file so that readers see the old content or the new, never half of it: temp file, then
 * rename. A write that fails takes its temp file with it. The text may come in pieces (see
 * util/json-chunks.ts), written as they come, so a big report never sits whole in memory.
 *
 * Only a regular file (or nothing) at `path` is replaced that way. Anything else there is not ours
 * to replace: a device (`--junit /dev/null`, as root) or a FIFO is written through, as a shell's
 * `>` would; a symlink is written through to what it points at, and stays a symlink. A folder, a
 * block device, a socket or a symlink to nothing throws (code CLAIMRUN_NOT_A_FILE).
 */
export function writeAtomic(path: string, text: string | Iterable<string>): void {
  const here = lstatSync(path, { throwIfNoEntry: false })
  if (here && !here.isFile()) {
    writeThrough(path, text)
    return
  }
  const tmp = `${path}.${process.pid}.claimrun-tmp`
  try {
    const fd = openSync(tmp, 'w')
    try {
      writePieces(fd, typeof text === 'string' ? [text] : text)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (err) {
    try {
      rmSync(tmp, { force: true })
    } catch {
      // Never created: its folder is gone or not a folder.
    }
    throw err
  }
}

const notAFile = (path: string, what: string): Error => Object.assign(new Error(`${path} is ${what}, not a file claimrun may write`), { code: 'CLAIMRUN_NOT_A_FILE' })

/** Writes into what is at `path` (never creating or replacing it): see writeAtomic. */
function writeThrough(path: string, text: string | Iterable<string>): void {
  const st = statSync(path, { throwIfNoEntry: false })
  if (!st) throw notAFile(path, 'a symlink to nothing')
  if (st.isDirectory()) throw notAFile(path, 'a folder')
  if (!st.isFile() && !st.isCharacterDevice() && !st.isFIFO()) throw notAFile(path, st.isBlockDevice() ? 'a block device' : 'a socket')
  // Non-blocking: opening a FIFO nobody reads would otherwise wait forever (it fails ENXIO instead).
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | (st.isFile() ? constants.O_TRUNC : 0))
  try {
    writePieces(fd, typeof text === 'string' ? [text] : text)
  } finally {
    closeSync(fd)
  }
}

function writePieces(fd: number, pieces: Iterable<string>): void {
  // One buffer for the whole file: a new one per write would leave megabytes of them (off V8's heap,
  // freed only when V8 next collects) behind a large run's files (docs/design/memory.md).
  const buf = Buffer.allocUnsafe(3 * WRITE_CHARS)
  const flush = (text: string): void => {
    const bytes = Buffer.byteLength(text) <= buf.length ? buf.subarray(0, buf.write(text)) : Buffer.from(text)
    for (let done = 0; done < bytes.length; ) done += writeSome(fd, bytes, done)
  }
  let batch = ''
  for (const p of pieces) {
    batch += p
    if (batch.length >= WRITE_CHARS) {
      flush(batch)
      batch = ''
    }
  }
  if (batch) flush(batch)
}

/** One write; on a full pipe (EAGAIN: written through, non-blocking) waits for its reader, within a bound. */
function writeSome(fd: number, bytes: Buffer, from: number): number {
  for (const giveUp = Date.now() + STALLED_READER_MS; ; ) {
    try {
      return writeSync(fd, bytes, from, bytes.length - from)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > giveUp) throw err
      Atomics.wait(pause, 0, 0, 5)
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4))
