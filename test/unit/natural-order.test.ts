import { describe, expect, it } from 'vitest'
import { naturalCompare } from '../../dist/src/plan/natural-order.js'

/** What discovery sorted by before: Intl.Collator('en', { numeric: true }), ties by code unit (the collator natural-order.ts hands other names to). */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' })
const reference = (a: string, b: string): number => Math.sign(collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0))

/** A small seeded generator, so a failure names strings that can be run again. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')

describe('natural order of test ids', () => {
  it('agrees with the collator on every pair of a large random sample of printable-ASCII names', () => {
    const next = random(13)
    // Mostly name-like strings (few letters, digits with leading zeros, case), some of any printable character.
    const alphabets = ['aAbB0019_-. ', 'tT_est0123456789.sh', PRINTABLE]
    const word = (): string => {
      const alphabet = alphabets[Math.floor(next() * alphabets.length)] as string
      return Array.from({ length: Math.floor(next() * 9) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('')
    }
    const names = Array.from({ length: 700 }, word)
    const wrong: string[] = []
    for (const a of names) {
      for (const b of names) {
        if (Math.sign(naturalCompare(a, b)) !== reference(a, b)) wrong.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
      }
    }
    expect(wrong.slice(0, 10)).toEqual([])
  })

  it('sorts as a reader counts, and hands other names to the collator', () => {
    const ids = ['t/test_10.sh', 't/test_2.sh', 't/Test_1.sh', 't/test_1.sh', 't/test_01.sh', 't/test-1.sh', 't/test 1.sh', 'T/a.sh', 't/é.sh', 't/e.sh', 't/f.sh', 't/new\nline.sh']
    const sorted = [...ids].sort(naturalCompare)
    expect(sorted).toEqual([...ids].sort(reference))
    expect(sorted.slice(0, 9)).toEqual(['T/a.sh', 't/e.sh', 't/é.sh', 't/f.sh', 't/new\nline.sh', 't/test 1.sh', 't/test_01.sh', 't/test_1.sh', 't/Test_1.sh'])
  })
})
