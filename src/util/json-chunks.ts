/**
 * `JSON.stringify(value, null, space)`, byte for byte, as a stream of pieces: the outer `levels`
 * levels of plain objects and arrays are written member by member, and each member below them is
 * stringified on its own (a long string is cut into pieces too). Written whole, a large run's results
 * made one string of megabytes (and a buffer as large to write it), which set the runner's peak
 * memory at its very end (docs/design/memory.md); in pieces, none is larger than one test.
 */
export function* jsonChunks(value: unknown, space = 0, levels = 2): Generator<string> {
  yield* piece(value, space > 0 ? ' '.repeat(space) : '', '', levels)
}

/** Strings longer than this are cut into pieces of about this many characters. */
const STRING_PIECE = 64 * 1024

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  if (typeof v !== 'object' || v === null || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false
  const proto = Object.getPrototypeOf(v) as unknown
  return Array.isArray(v) || proto === Object.prototype || proto === null
}

/** What JSON.stringify leaves out of an object (and writes as null in an array). */
const omitted = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol'

function* piece(v: unknown, unit: string, indent: string, levels: number): Generator<string> {
  if (typeof v === 'string' && v.length > STRING_PIECE) return yield* longString(v)
  if (levels <= 0 || !isContainer(v)) {
    const s = JSON.stringify(v, null, unit) as string | undefined
    // A nested value's lines continue at its own depth (a JSON text has no raw newline in a string).
    return void (yield unit && indent && s !== undefined ? s.replaceAll('\n', `\n${indent}`) : (s ?? 'null'))
  }
  const inner = indent + unit
  const open = unit ? `\n${inner}` : ''
  // Member by member, without a list of them: at the end of a run, whatever is alive when V8
  // collects is promoted to the old generation and stays until the process ends.
  let first = true
  const member = (key: string | null): string => {
    const head = `${first ? '' : ','}${open}${key === null ? '' : `${JSON.stringify(key)}:${unit ? ' ' : ''}`}`
    first = false
    return head
  }
  if (Array.isArray(v)) {
    yield '['
    for (const x of v) {
      yield member(null)
      yield* piece(omitted(x) ? null : x, unit, inner, levels - 1)
    }
  } else {
    yield '{'
    for (const key of Object.keys(v)) {
      const x = v[key]
      if (omitted(x)) continue
      yield member(key)
      yield* piece(x, unit, inner, levels - 1)
    }
  }
  // An empty container (or one whose members are all left out) is `[]`/`{}`, with no line break.
  yield `${first || !unit ? '' : `\n${indent}`}${Array.isArray(v) ? ']' : '}'}`
}

/** A long string as JSON, in pieces; a cut never falls inside a surrogate pair (JSON escapes a lone half). */
function* longString(s: string): Generator<string> {
  yield '"'
  for (let at = 0; at < s.length; ) {
    let end = Math.min(s.length, at + STRING_PIECE)
    const last = s.charCodeAt(end - 1)
    if (end < s.length && last >= 0xd800 && last <= 0xdbff) end--
    yield JSON.stringify(s.slice(at, end)).slice(1, -1)
    at = end
  }
  yield '"'
}
