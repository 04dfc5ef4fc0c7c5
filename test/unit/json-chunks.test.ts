import { describe, expect, it } from 'vitest'
import { jsonChunks } from '../../dist/src/util/json-chunks.js'

// results.json and report.html are written in pieces (reporters/run-files.ts); their bytes must stay
// exactly JSON.stringify's, whatever the values.
const awkward = {
  id: 'a\nb\t"c"\\ <script>&\u2028\u2029 \u0001',
  skipped: undefined,
  fn: () => 1,
  empty: {},
  emptyList: [],
  allSkipped: { a: undefined },
  list: [undefined, () => 1, Symbol('s'), 0, -0, 1.5, null, true, [], {}, [[]], { z: { y: [1, { q: 2 }] } }],
  date: new Date(0),
  map: new Map([[1, 2]]),
  noProto: Object.assign(Object.create(null), { k: 'v' }),
  // Long enough to be cut, with a surrogate pair across every likely cut and a lone half at the end.
  long: `${'é😀'.repeat(70_000)}\ud83d`,
  tests: Array.from({ length: 50 }, (_, i) => ({ id: `t${i}`, tail: i % 2 ? 'x'.repeat(i) : '', log: { offset: i }, notes: i % 3 ? undefined : ['n'] })),
}

describe('jsonChunks', () => {
  it('joins to exactly JSON.stringify(value, null, space) at every depth and indent', () => {
    for (const value of [awkward, [], {}, [1], { a: [] }, 'text', 5, null, [{ a: 1 }, { b: [2, 3] }]]) {
      for (const space of [0, 2, 4]) {
        for (const levels of [0, 1, 2, 3, 6]) {
          expect([...jsonChunks(value, space, levels)].join('')).toBe(JSON.stringify(value, null, space))
        }
      }
    }
  })

  it('writes a big list member by member, and cuts a long string, so no piece is much bigger than one member', () => {
    const pieces = [...jsonChunks(awkward, 2, 2)]
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(64 * 1024 + 16)
    expect(pieces.filter((p) => p.includes('"id": "t'))).toHaveLength(50)
  })
})
