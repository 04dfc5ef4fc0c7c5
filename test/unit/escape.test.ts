import { describe, expect, it } from 'vitest'
import { escapeControl, escapeLine } from '../../dist/src/util/escape.js'

describe('escaping control characters in what tests print', () => {
  it('returns plain text as it is and still escapes every control character', () => {
    for (const plain of ['', 't/a.sh', 'é ü ✓ and spaces', '\u00a0\u00ff\u2028']) {
      expect(escapeLine(plain)).toBe(plain)
      expect(escapeControl(plain)).toBe(plain)
    }
    expect(escapeLine('a\nb\tc\r\nd\u001b[2J\u007f\u0085')).toBe('a\\nb\\tc\\nd\\x1b[2J\\x7f\\x85')
    expect(escapeControl('a\r\nb\u0000\tc\n')).toBe('a\nb\\x00\tc\n')
    for (let c = 0; c < 0xa0; c++) {
      const s = `x${String.fromCharCode(c)}y`
      const changed = c < 0x20 || (c >= 0x7f && c <= 0x9f)
      expect(escapeLine(s) !== s, `char ${c}`).toBe(changed)
    }
  })
})
