import { readHead } from '../util/read-head.js'
import { ClaimrunError } from '../vocab/errors.js'

/** What a test file's own `claimrun:` header line says. */
export interface HeaderNeeds {
  groups: string[]
  weight?: number
  serial: boolean
  /** 1-based line of the header, for --list and errors. */
  line: number
}

/** The header must sit within a file's first lines, so only this much of each file is read. */
const HEAD_BYTES = 4096
const HEAD_LINES = 20
/** A comment in any common style (`#`, `//`, `--`, `;`), then `claimrun:` and its words. */
const HEADER = /^\s*(?:#+|\/\/+|--+|;+)\s*claimrun:(.*)$/
/** What a group may be called, in a header or in the config. */
export const GROUP_NAME = /^[\w.:-]{1,64}$/
const MARK = Buffer.from('claimrun:')

const bad = (id: string, line: number, what: string): ClaimrunError =>
  new ClaimrunError('CLAIMRUN_BAD_OPTION', `${id} line ${line}: ${what}; the header reads e.g. "# claimrun: group=db,port8080 weight=2 serial"`)

/** Parses one header's words: `group=a,b`, `weight=N`, `serial`, in any order. */
export function parseHeaderLine(words: string, id: string, line: number): HeaderNeeds {
  const needs: HeaderNeeds = { groups: [], serial: false, line }
  const tokens = words.trim().split(/\s+/).filter(Boolean)
  if (tokens.length === 0) throw bad(id, line, 'claimrun: names nothing')
  for (const token of tokens) {
    const eq = token.indexOf('=')
    const key = eq < 0 ? token : token.slice(0, eq)
    const value = eq < 0 ? undefined : token.slice(eq + 1)
    if (key === 'serial' && value === undefined) needs.serial = true
    else if (key === 'group' && value !== undefined) {
      const names = value.split(',')
      const wrong = names.find((n) => !GROUP_NAME.test(n))
      if (wrong !== undefined) throw bad(id, line, `group name ${JSON.stringify(wrong)} must be 1-64 letters, digits, '.', ':', '_' or '-'`)
      needs.groups.push(...names)
    } else if (key === 'weight' && value !== undefined) {
      if (!/^[1-9]\d{0,5}$/.test(value)) throw bad(id, line, `weight must be a whole number of 1 or more (received ${JSON.stringify(value)})`)
      needs.weight = Number(value)
    } else {
      throw bad(id, line, `unknown claimrun: key ${JSON.stringify(token)} (the keys are group=, weight= and serial)`)
    }
  }
  return needs
}

/**
 * Each file's header, or null. Reads at most the first few KiB of each file, once, into one reused
 * buffer, and looks at the lines only when the bytes hold `claimrun:` at all. A file that cannot be
 * read has no header here: running it reports why.
 */
export function readHeaders(tests: Array<{ id: string; file: string }>): Array<HeaderNeeds | null> {
  const buffer = Buffer.allocUnsafe(HEAD_BYTES)
  return tests.map(({ id, file }) => {
    const head = readHead(file, buffer)
    if (head === null || head.indexOf(MARK) < 0) return null
    const lines = head.toString('utf8').split('\n', HEAD_LINES)
    let found: HeaderNeeds | null = null
    for (let i = 0; i < lines.length; i++) {
      const m = HEADER.exec((lines[i] as string).replace(/\r$/, ''))
      if (!m) continue
      const parsed = parseHeaderLine(m[1] as string, id, i + 1)
      // Several header lines add up (groups are joined; the larger weight and any serial win).
      found = found ? { groups: [...found.groups, ...parsed.groups], weight: Math.max(found.weight ?? 1, parsed.weight ?? 1), serial: found.serial || parsed.serial, line: found.line } : parsed
    }
    return found
  })
}
