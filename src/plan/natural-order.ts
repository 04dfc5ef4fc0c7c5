/**
 * The order of test ids in a folder: natural (test_2 before test_10), as Intl.Collator('en',
 * { numeric: true }) sorts, ties broken by code unit. Creating that collator costs ICU set-up
 * in front of every run of a folder (docs/design/lazy-loading.md), so names of printable ASCII (nearly
 * all test files) are compared here by the collator's own rules for them; any other name is
 * handed to the collator itself. test/unit/natural-order.test.ts holds the two to the same answer.
 */

/**
 * The collator's primary order of the printable ASCII characters that are not digits or letters
 * (Unicode's root collation: spaces, punctuation, then symbols). Digits follow, then letters.
 */
const PUNCTUATION = ' _-,;:!?.\'"()[]{}@*/\\&#%`^+<=>|~$'

/** Primary weight per character code (digits are compared as numbers, see below); -1: not handled here. */
const PRIMARY = new Int16Array(128).fill(-1)
for (let i = 0; i < PUNCTUATION.length; i++) PRIMARY[PUNCTUATION.charCodeAt(i)] = i
for (let c = 0; c < 26; c++) {
  PRIMARY[97 + c] = PUNCTUATION.length + 1 + c // a-z
  PRIMARY[65 + c] = PUNCTUATION.length + 1 + c // A-Z: the same letter at the first level
}
const DIGITS = PUNCTUATION.length

let collator: Intl.Collator | undefined
const collate = (a: string, b: string): number => (collator ??= new Intl.Collator('en', { numeric: true, sensitivity: 'variant' })).compare(a, b)

const isDigit = (code: number): boolean => code >= 48 && code <= 57
const handled = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i)
    if (code >= 128 || (PRIMARY[code] as number) < 0 && !isDigit(code)) return false
  }
  return true
}

/**
 * The collator's answer for two printable-ASCII strings: first by letters without case, numbers by
 * value (leading zeros ignored) and punctuation in PUNCTUATION's order, a string before its
 * extensions; then by the first difference in case, lowercase first.
 */
function compareAscii(a: string, b: string): number {
  let i = 0
  let j = 0
  let caseOrder = 0
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i)
    const cb = b.charCodeAt(j)
    if (isDigit(ca) && isDigit(cb)) {
      // Two numbers: by value, so by length once leading zeros are gone, then digit by digit.
      let ea = i
      let eb = j
      while (ea < a.length && isDigit(a.charCodeAt(ea))) ea++
      while (eb < b.length && isDigit(b.charCodeAt(eb))) eb++
      while (i < ea - 1 && a.charCodeAt(i) === 48) i++
      while (j < eb - 1 && b.charCodeAt(j) === 48) j++
      if (ea - i !== eb - j) return ea - i < eb - j ? -1 : 1
      for (; i < ea; i++, j++) if (a.charCodeAt(i) !== b.charCodeAt(j)) return a.charCodeAt(i) < b.charCodeAt(j) ? -1 : 1
      continue
    }
    const pa = isDigit(ca) ? DIGITS : (PRIMARY[ca] as number)
    const pb = isDigit(cb) ? DIGITS : (PRIMARY[cb] as number)
    if (pa !== pb) return pa < pb ? -1 : 1
    // Same letter: the first difference in case decides, but only if nothing at the first level does.
    if (caseOrder === 0 && ca !== cb) caseOrder = ca > cb ? -1 : 1 // lowercase (the higher code) first
    i++
    j++
  }
  if (i < a.length || j < b.length) return i < a.length ? 1 : -1
  return caseOrder
}

/** Natural order of two test ids (see above); 0 only for the same string. */
export function naturalCompare(a: string, b: string): number {
  const order = handled(a) && handled(b) ? compareAscii(a, b) : collate(a, b)
  return order || (a < b ? -1 : a > b ? 1 : 0)
}
