import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'

/** Pieces are gathered up to this many characters per write. */
const WRITE_CHARS = 64 * 1024

/**
 * Writes a file so that readers see the old content or the new, never half of it: temp file, then
 * rename. A write that fails takes its temp file with it. The text may come in pieces (see
 * util/json-chunks.ts), written as they come, so a big report never sits whole in memory.
 */
export function writeAtomic(path: string, text: string | Iterable<string>): void {
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

function writePieces(fd: number, pieces: Iterable<string>): void {
  // One buffer for the whole file: a new one per write would leave megabytes of them (off V8's heap,
  // freed only when V8 next collects) behind a large run's files (docs/design/memory.md).
  const buf = Buffer.allocUnsafe(3 * WRITE_CHARS)
  const flush = (text: string): void => {
    const bytes = Buffer.byteLength(text) <= buf.length ? buf.subarray(0, buf.write(text)) : Buffer.from(text)
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done)
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
