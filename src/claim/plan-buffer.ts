import type { PlannedTest, TapMode } from '../vocab/protocol.js'

/**
 * The plan (each test's id, argv and TAP mode) in one SharedArrayBuffer, so worker threads read the one test
 * they claimed instead of each holding a copy of the whole suite: a worker's heap stays the same
 * size for 10 tests or 100,000.
 *
 * Layout: Int32 count, Int32 offsets[count + 1] (byte offsets into the data), then UTF-8 JSON per test.
 */
export function encodePlan(tests: PlannedTest[]): SharedArrayBuffer {
  const encoded = tests.map((t) => Buffer.from(JSON.stringify(t.tap ? [t.id, t.argv, t.tap] : [t.id, t.argv])))
  const header = (tests.length + 2) * 4
  const total = encoded.reduce((a, b) => a + b.length, 0)
  const buffer = new SharedArrayBuffer(header + total)
  const ints = new Int32Array(buffer, 0, tests.length + 2)
  const bytes = new Uint8Array(buffer)
  ints[0] = tests.length
  let offset = header
  encoded.forEach((b, i) => {
    ints[i + 1] = offset
    bytes.set(b, offset)
    offset += b.length
  })
  ints[tests.length + 1] = offset
  return buffer
}

export const planSize = (buffer: SharedArrayBuffer): number => new Int32Array(buffer, 0, 1)[0] as number

/** Reads test i. The buffer is written once, before any worker starts, and never changes. */
export function decodeTest(buffer: SharedArrayBuffer, i: number): PlannedTest {
  const ints = new Int32Array(buffer, (i + 1) * 4, 2)
  const start = ints[0] as number
  const end = ints[1] as number
  const [id, argv, tap] = JSON.parse(Buffer.from(buffer, start, end - start).toString('utf8')) as [string, string[], TapMode?]
  return tap ? { id, argv, tap } : { id, argv }
}
