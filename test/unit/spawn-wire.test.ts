import { describe, expect, it } from 'vitest'
import { FrameBatch, FrameReader, frame } from '../../dist/src/watchdog/spawn-wire.js'

type Frame = [kind: number, id: number, payload: string]

/** Every frame a reader hands out, its payload copied (it may be a view into the chunk). */
function readAll(chunks: Array<[Buffer, number]>): Frame[] {
  const got: Frame[] = []
  const reader = new FrameReader((kind, id, payload) => got.push([kind, id, Buffer.from(payload).toString('latin1')]))
  for (const [chunk, size] of chunks) reader.push(chunk, size)
  return got
}

describe('the spawner wire: frames encoded into one reused batch, read from a reused buffer', () => {
  const frames: Frame[] = [
    [10, 1, '4242'],
    [14, 0xfffffffe, '{"code":0,"signal":null,"at":12.5}'],
    [15, 256, ''],
    [12, 70000, 'x'.repeat(5000)], // past the batch's first 4 KiB
    [13, 3, 'é\u0000\n'],
  ]
  const encode = (batch: FrameBatch): Buffer => {
    for (const [kind, id, payload] of frames) batch.add(kind, id, kind === 12 || kind === 13 ? Buffer.from(payload, 'latin1') : payload)
    return Buffer.from(batch.take())
  }
  const expected = frames.map(([kind, id, payload]): Frame => [kind, id, Buffer.from(payload, kind === 12 || kind === 13 ? 'latin1' : 'utf8').toString('latin1')])

  it('encodes what frame() encodes, and is empty and reusable after take()', () => {
    const batch = new FrameBatch()
    const bytes = encode(batch)
    expect(batch.empty).toBe(true)
    expect(bytes.equals(Buffer.concat(frames.map(([kind, id, payload]) => frame(kind, id, kind === 12 || kind === 13 ? Buffer.from(payload, 'latin1') : payload))))).toBe(true)
    // A second round in the same (grown, then reused) batch gives the same bytes.
    expect(encode(batch).equals(bytes)).toBe(true)
  })

  it('reads the same frames however the bytes are split, from a read buffer longer than what was read', () => {
    const bytes = encode(new FrameBatch())
    for (let cut = 0; cut <= bytes.length; cut += cut < 40 || cut > bytes.length - 40 ? 1 : 97) {
      // Each read lands at the start of one reused buffer with stale bytes after it, as a socket's onread does.
      const readBuffer = Buffer.alloc(bytes.length + 64, 0xee)
      const got: Frame[] = []
      const reader = new FrameReader((kind, id, payload) => got.push([kind, id, Buffer.from(payload).toString('latin1')]))
      for (const part of [bytes.subarray(0, cut), bytes.subarray(cut)]) {
        part.copy(readBuffer)
        reader.push(readBuffer, part.length)
        readBuffer.fill(0xee)
      }
      expect(got, `split at ${cut}`).toEqual(expected)
    }
    expect(readAll([[bytes, bytes.length]])).toEqual(expected)
  })
})
