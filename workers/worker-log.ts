import { closeSync, fstatSync, openSync, writeSync } from 'node:fs'
import { createRequire } from 'node:module'

/** Bytes of each test's output kept in memory for the summary (the log keeps the rest). */
const TAIL_BYTES = 16 * 1024
const TAIL_LINES = 50

/**
 * Every chunk a pipe delivers is a fresh off-heap buffer, and V8 only collects those once tens of MiB of
 * them pile up; a test printing hundreds of MB would hold the worker's memory near that. A young-gen
 * collection every RECLAIM_EVERY bytes keeps the pile small for a flood at a small cost per
 * collection (docs/design/memory.md), and never happens for ordinary output.
 */
const RECLAIM_EVERY = 8 * 1024 * 1024
/**
 * Made on the first flood, not when the worker loads: a new V8 context and node:v8 would add to every
 * worker's start (docs/design/memory.md). Loaded then, after
 * the flood's current chunk (the first collection comes a moment later).
 */
let minorGc: (() => void) | null | undefined
let loading = false
function collect(): void {
  if (minorGc !== undefined) return minorGc?.()
  if (loading) return
  loading = true
  const builtin = createRequire(import.meta.url)
  void Promise.resolve()
    .then(() => [builtin('node:v8') as typeof import('node:v8'), builtin('node:vm') as typeof import('node:vm')] as const)
    .then(([v8, vm]) => {
      v8.setFlagsFromString('--expose-gc')
      const gc = vm.runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void
      minorGc = () => gc({ type: 'minor' })
      minorGc()
    })
    .catch(() => {
      minorGc = null
    })
}

/**
 * One worker's log: the tests it ran, one after another, each between a header and a footer, so
 * it reads like that worker's stdout in a pipeline UI. Written synchronously: the worker thread
 * has nothing else to do meanwhile, and a blocked write back-pressures the test's pipe instead of
 * buffering its output in memory.
 */
export class WorkerLog {
  private readonly fd: number
  private position: number
  /** Why a write failed (ENOSPC: the disk is full), until the host has been told; then '' . */
  private failure: string | null = null

  constructor(path: string) {
    this.fd = openSync(path, 'a')
    this.position = fstatSync(this.fd).size
  }

  get offset(): number {
    return this.position
  }

  /**
   * A write that fails (a full disk, a quota, a file-size limit) loses that output, never the test:
   * the lane goes on, and the run says so once (`failed`). Later writes are tried again (space may free up).
   */
  write(data: string | Uint8Array): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    let done = 0
    try {
      while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done)
    } catch (err) {
      this.failure ??= (err as NodeJS.ErrnoException).code ?? String(err)
    }
    this.position += done
  }

  /** The error code of the first write that failed, the first time it is asked for (then undefined). */
  failed(): string | undefined {
    if (!this.failure) return undefined
    const code = this.failure
    this.failure = ''
    return code
  }

  close(): void {
    closeSync(this.fd)
  }
}

/**
 * The output of one attempt: streamed into the worker log up to `maxBytes` (then counted and
 * dropped, with a marker), and a bounded tail kept in memory, whatever the test prints.
 */
export class TestOutput {
  readonly start: number
  private bytes = 0
  private dropped = 0
  private lastByte = 10
  private tail: Buffer[] = []
  private tailSize = 0

  /** Written with the first output, or with the footer: a test that prints nothing costs one write. */
  private header: string | null

  constructor(
    private readonly log: WorkerLog,
    private readonly maxBytes: number,
    header: string,
  ) {
    this.start = log.offset
    this.header = header
  }

  private sinceReclaim = 0

  data = (chunk: Buffer): void => {
    if (this.header !== null) {
      this.log.write(this.header)
      this.header = null
    }
    this.sinceReclaim += chunk.length
    if (this.sinceReclaim >= RECLAIM_EVERY) {
      this.sinceReclaim = 0
      collect()
    }
    const room = this.maxBytes - (this.bytes - this.dropped)
    this.bytes += chunk.length
    if (room >= chunk.length) {
      this.log.write(chunk)
    } else {
      if (room > 0) this.log.write(chunk.subarray(0, room))
      this.dropped += chunk.length - Math.max(room, 0)
    }
    this.keepTail(chunk)
    if (room > 0) this.lastByte = chunk[Math.min(room, chunk.length) - 1] ?? 10
  }

  private keepTail(chunk: Buffer): void {
    if (chunk.length >= TAIL_BYTES) {
      this.tail = [chunk.subarray(chunk.length - TAIL_BYTES)]
      this.tailSize = TAIL_BYTES
      return
    }
    // Copy: the chunk may be a view into a pooled buffer that is reused.
    this.tail.push(Buffer.from(chunk))
    this.tailSize += chunk.length
    while (this.tailSize - (this.tail[0]?.length ?? 0) >= TAIL_BYTES) this.tailSize -= this.tail.shift()?.length ?? 0
  }

  /** Writes the footer and returns what the result needs to know about the output. */
  finish(footer: string): { outputBytes: number; droppedBytes: number; offset: number; length: number; tail: string } {
    let end = this.header ?? ''
    this.header = null
    if (this.lastByte !== 10) end += '\n'
    if (this.dropped > 0) end += `[claimrun: output capped at ${this.maxBytes} byte${this.maxBytes === 1 ? '' : 's'}; ${this.dropped} more byte${this.dropped === 1 ? '' : 's'} dropped]\n`
    this.log.write(end + footer)
    return {
      outputBytes: this.bytes,
      droppedBytes: this.dropped,
      offset: this.start,
      length: this.log.offset - this.start,
      tail: this.tailText(),
    }
  }

  private tailText(): string {
    if (this.bytes === 0) return ''
    let buf = Buffer.concat(this.tail)
    if (buf.length > TAIL_BYTES) buf = buf.subarray(buf.length - TAIL_BYTES)
    const cut = this.bytes > buf.length
    if (cut) {
      const nl = buf.indexOf(10)
      if (nl >= 0 && nl < buf.length - 1) buf = buf.subarray(nl + 1)
    }
    let text = buf.toString('utf8')
    const lines = text.split('\n')
    if (lines.at(-1) === '') lines.pop()
    if (lines.length > TAIL_LINES) text = lines.slice(-TAIL_LINES).join('\n') + '\n'
    return text
  }
}
