import { createRequire } from 'node:module'
import { StringDecoder } from 'node:string_decoder'
import type { Parser, Result } from 'tap-parser'
import type { TapMode } from '../src/vocab/protocol.js'
import type { SubtestStatus, SubtestSummary } from '../src/vocab/types.js'

/** The longest line looked at; the rest of a longer one is dropped (no TAP line needs more). */
const MAX_LINE = 64 * 1024
/** Failing sub-test names kept, and how long each may be. */
const MAX_FAILURES = 50
const MAX_NAME = 200
/** Top-level sub-tests listed by name (for JUnit); the counts cover all of them. */
const MAX_LISTED = 1000
/** Test point numbers remembered for tap-parser's duplicate check before the memory is given back. */
const MAX_IDS = 100_000
/** Parse errors reported, as prove lists them. */
const MAX_ERRORS = 5

// The top-level grammar is TAP::Parser's (TAP::Parser::Grammar), so that what counts and what fails is what prove says.
const VERSION = /^TAP\s+version\s+(\d+)\s*$/i
const PLAN = /^1\.\.(\d+)\s*(.*)$/
const SKIP_ALL = /^#\s*SKIP\S*\s+(.*)/i
const PLAN_TODO = /^todo((?:\s+\d+)+)/
const POINT = /^(not )?ok\b\s*(\d+)?\s*(.*)$/
const DIRECTIVE = /^[^\\#]*(?:\\.[^\\#]*)*#\s*(SKIP|TODO)\b/i
const BAIL_OUT = /^\s*Bail out!\s*(.*)$/
/** How auto mode recognises TAP's first line (besides a version line): a plan or a test point, or a subtest's when the first test is a subtest. */
const TAP_FIRST = /^(?: {4})*(?:1\.\.\d|(?:not )?ok\b)/
/** How every top-level line counted here starts (one cheap test before the grammar's, for a flood of other prints). */
const MAYBE_TOP = /^(?:ok|not ok|1\.\.|tap\s|# Subtest)/i
const YAML_START = /^(\s+)---\s*$/
const SUBTEST_COMMENT = /^# Subtest\b/
/** How every line tap-parser acts on starts (one cheap test before its full match, which is most of the cost on a flood). */
const MAYBE_TAP = /^(?:ok|not ok|\d|pragma |tap version )/i

const failsByTapParser = (res: Result): boolean => !res.ok && !res.todo && !res.skip
const cut = (name: string): string => (name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name)
/** A stand-in for a Result once it has been counted, so the duplicate-id map holds nothing big. */
const SEEN = Object.freeze({}) as Result

type TapParserLib = typeof import('tap-parser')
let lib: TapParserLib | undefined
/**
 * tap-parser and the YAML library under it take a worker thread longer to load than everything
 * else it loads together (docs/design/lazy-loading.md): loaded, synchronously, on the first
 * output that is TAP, not at every worker's start.
 */
const tapParser = (): TapParserLib => (lib ??= createRequire(import.meta.url)('tap-parser') as TapParserLib)

/**
 * Reads a test's stdout as TAP while it streams. In `strict` mode (a `.t` file, as prove reads it)
 * the output is TAP whatever it says. In `auto` mode it is TAP only when its first meaningful line
 * looks like TAP and a `TAP version` line or a plan confirms it, wherever the plan comes (first, or
 * last as done_testing prints it); until then it is read as TAP all the same, so a late plan finds
 * everything counted, and without one the stream was never TAP and the exit code alone decides.
 *
 * The top level is counted here with TAP::Parser's grammar and rules (a `not ok` fails unless it is
 * TODO, a SKIP does not excuse it, a point past the plan fails, the plan must come first or last,
 * once, and numbers must follow in sequence); tap-parser is handed only the lines that name sub-tests
 * (test points, nested subtests), never YAML blocks, comments or other prints, and only whole lines
 * (at most MAX_LINE long). What it keeps grows with the number of sub-tests at most (a few bounded
 * lists and the parser's id map, itself capped), never with the bytes printed.
 */
export class TapStream {
  private state: 'undecided' | 'tap' | 'not-tap' | 'bailed' = 'undecided'
  private readonly decoder = new StringDecoder('utf8')
  private partial = ''
  private overlong = false
  private firstLine = true
  private yamlIndent: string | null = null
  /** A `# Subtest` line seen before auto mode decided: replayed to the parser once it starts. */
  private subtestHeader: string | undefined
  private parser: Parser | undefined
  private confirmed: boolean
  private readonly counts: Record<SubtestStatus, number> = { passed: 0, failed: 0, skipped: 0, todo: 0 }
  /** Top-level statuses decided here, waiting for tap-parser's result of the same point (which names it). */
  private readonly pending: SubtestStatus[] = []
  private current: { res: Result; status: SubtestStatus } | undefined
  private readonly failures: string[] = []
  private readonly listed: { name: string; status: SubtestStatus }[] = []
  private readonly errors: string[] = []
  private points = 0
  private planned: number | undefined
  /** Where the plan came: before any test point, after some, or after some with more points after it. */
  private planAt: 'first' | 'last' | 'middle' | undefined
  /** Points a `1..N todo 2 3` plan (TAP 12) calls TODO. */
  private planTodo: Set<number> | undefined
  private versionSeen = false
  private skipAll: string | undefined
  private bailout: string | undefined

  constructor(mode: Exclude<TapMode, 'off'>) {
    this.confirmed = mode === 'strict'
    if (mode === 'strict') this.state = 'tap'
  }

  /** Feeds a chunk of stdout (any split: lines and UTF-8 sequences may cross chunks). */
  write = (chunk: Buffer): void => {
    if (this.state === 'not-tap' || this.state === 'bailed') return
    this.take(this.decoder.write(chunk))
    this.trim()
  }

  private take(text: string): void {
    let from = 0
    for (;;) {
      const nl = text.indexOf('\n', from)
      const piece = text.slice(from, nl < 0 ? text.length : nl)
      if (!this.overlong) {
        this.partial += piece
        if (this.partial.length > MAX_LINE) {
          this.partial = this.partial.slice(0, MAX_LINE)
          this.overlong = true
        }
      }
      if (nl < 0) return
      let line = this.partial.endsWith('\r') ? this.partial.slice(0, -1) : this.partial
      this.partial = ''
      this.overlong = false
      // A byte order mark is an encoding's mark, not output.
      if (this.firstLine && line.startsWith('\uFEFF')) line = line.slice(1)
      this.firstLine = false
      this.line(line)
      if (this.state === 'not-tap' || this.state === 'bailed') return
      from = nl + 1
    }
  }

  private line(line: string): void {
    if (this.state === 'undecided') {
      if (line.trim() === '') return
      if (line.startsWith('#')) {
        if (SUBTEST_COMMENT.test(line)) this.subtestHeader = line
        return
      }
      // Case matters as it does to TAP::Parser: `OK 1` is not a test point; only the version line is any case.
      if (!TAP_FIRST.test(line) && !VERSION.test(line)) {
        this.state = 'not-tap'
        return
      }
      this.state = 'tap'
      if (this.subtestHeader !== undefined) this.feed(this.subtestHeader)
    }
    if (this.yamlIndent !== null) {
      if (line.trim() === '' || line.startsWith(this.yamlIndent)) {
        if (line.trim() === '...' && line.startsWith(`${this.yamlIndent}...`)) this.yamlIndent = null
        return
      }
      this.yamlIndent = null
    }
    const yaml = YAML_START.exec(line)
    if (yaml) {
      this.yamlIndent = yaml[1] as string
      return
    }
    const bail = BAIL_OUT.exec(line)
    if (bail) {
      // prove stops reading at a bail out, at any depth.
      this.bailout = (bail[1] as string).trim()
      this.state = 'bailed'
      return
    }
    if (/^\S/.test(line)) return this.topLevel(line)
    // Subtests are indented by four spaces a level; anything else indented is not TAP.
    const bare = line.replace(/^(?: {4})*/, '')
    if (SUBTEST_COMMENT.test(bare)) return this.feed(line)
    if (!MAYBE_TAP.test(bare)) return
    const type = tapParser().lineType(`${bare}\n`)
    if (!type || type[0] === 'comment') return
    this.feed(line)
  }

  /** A line that is not indented: counted by prove's rules. */
  private topLevel(line: string): void {
    if (!MAYBE_TOP.test(line)) return
    const point = POINT.exec(line)
    if (point) return this.point(!point[1], point[2], point[3] as string)
    const plan = PLAN.exec(line)
    if (plan) return this.plan(Number(plan[1]), plan[2] as string)
    const version = VERSION.exec(line)
    if (version) return this.version(Number(version[1]))
    if (SUBTEST_COMMENT.test(line)) this.feed(line)
  }

  private point(ok: boolean, number: string | undefined, rest: string): void {
    const n = ++this.points
    if (number !== undefined && Number(number) !== n) this.error(`Tests out of sequence.  Found (${number}) but expected (${n})`)
    if (this.planAt === 'last') {
      this.planAt = 'middle'
      this.error(`Plan (1..${this.planned}) must be at the beginning or end of the TAP output`)
    }
    const directive = this.planTodo?.delete(number === undefined ? n : Number(number)) ? 'TODO' : DIRECTIVE.exec(rest)?.[1]?.toUpperCase()
    const unplanned = this.planned !== undefined && n > this.planned
    // As TAP::Parser's is_ok: a point past the plan fails, TODO excuses a not ok, SKIP does not.
    const status: SubtestStatus = unplanned ? 'failed' : directive === 'TODO' ? 'todo' : !ok ? 'failed' : directive === 'SKIP' ? 'skipped' : 'passed'
    this.counts[status]++
    this.pending.push(status)
    // Renumbered for tap-parser: order and duplicates are judged here, and it only names the point.
    this.feed(`${ok ? 'ok' : 'not ok'} ${n}${rest ? ` ${rest.replace(/\{$/, '')}` : ''}`)
  }

  private plan(count: number, tail: string): void {
    const todo = PLAN_TODO.exec(tail)
    // `1..N # anything` is not a plan to TAP::Parser (only `1..0` carries a reason).
    if (count > 0 && tail !== '' && !todo) return
    if (this.planned !== undefined) return this.error('More than one plan found in TAP output')
    this.planned = count
    this.planAt = this.points === 0 ? 'first' : 'last'
    if (todo) this.planTodo = new Set((todo[1] as string).trim().split(/\s+/).map(Number))
    if (count === 0) this.skipAll = SKIP_ALL.exec(tail)?.[1] ?? ''
    this.confirmed = true
  }

  private version(version: number): void {
    if (this.versionSeen || this.points > 0 || this.planned !== undefined) return this.error('If TAP version is present it must be the first line of output')
    this.versionSeen = true
    this.confirmed = true
    if (version < 13) this.error(`Explicit TAP version must be at least 13. Got version ${version}`)
  }

  private error(text: string): void {
    if (this.errors.length < MAX_ERRORS) this.errors.push(text)
  }

  private feed(line: string): void {
    ;(this.parser ??= this.newParser()).write(`${line}\n`)
  }

  private newParser(): Parser {
    const parser = new (tapParser().Parser)()
    parser.on('assert', (res: Result) => {
      const status = this.pending.shift() ?? (failsByTapParser(res) ? 'failed' : res.todo ? 'todo' : res.skip ? 'skipped' : 'passed')
      this.current = { res, status }
      if (this.listed.length < MAX_LISTED) this.listed.push({ name: cut(res.name || `#${res.id}`), status })
      // A SKIP on a not ok, or a point past the plan: failed here, not by tap-parser, so named here.
      if (status === 'failed' && !failsByTapParser(res)) this.failed(res)
      if (res.id && parser.pointsSeen.get(res.id) === res) parser.pointsSeen.set(res.id, SEEN)
    })
    // `result` reaches the root for nested sub-tests too, named `parent > child`; a top-level point
    // that only repeats its subtest's failure is not one (its failing children are named instead).
    parser.on('result', (res: Result) => {
      if (failsByTapParser(res) && (res !== this.current?.res || this.current.status === 'failed')) this.failed(res)
    })
    return parser
  }

  private failed(res: Result): void {
    if (this.failures.length < MAX_FAILURES) this.failures.push(cut(res.fullname || res.name || `#${res.id}`))
  }

  /** The parser keeps every skip, todo, failure and comment it saw; we keep our own bounded copy. */
  private trim(): void {
    const p = this.parser
    if (!p) return
    p.skips.length = 0
    p.todos.length = 0
    p.failures.length = 0
    p.comments.length = 0
    // Past MAX_IDS the duplicate-id check starts over rather than grow without end.
    if (p.pointsSeen.size > MAX_IDS) p.pointsSeen.clear()
  }

  /** Ends the stream (the test has exited); undefined when its stdout was not TAP. */
  finish(): SubtestSummary | undefined {
    if (this.state !== 'not-tap' && this.state !== 'bailed') {
      const rest = this.decoder.end()
      if (rest || this.partial) this.take(`${rest}\n`)
    }
    if (this.state === 'not-tap' || !this.confirmed) return undefined
    this.parser?.end()
    return {
      ...this.counts,
      failures: this.failures,
      ...(this.planned !== undefined ? { planned: this.planned } : {}),
      ...(this.skipAll !== undefined ? { skipAll: this.skipAll } : {}),
      ...(this.bailout !== undefined ? { bailout: this.bailout } : {}),
      problems: this.problems(),
      tests: this.listed,
    }
  }

  /** Why this TAP fails its test, in prove's terms; empty when it does not. */
  private problems(): string[] {
    const problems: string[] = []
    const ran = this.points
    if (this.bailout !== undefined) problems.push(`Bail out!${this.bailout ? ` ${this.bailout}` : ''}`)
    if (this.counts.failed > 0) problems.push(`${this.counts.failed} of ${ran} sub-test${ran === 1 ? '' : 's'} failed`)
    // A bail out ends the stream early: its plan and order are not judged.
    if (this.bailout !== undefined) return problems
    if (this.planned === undefined) problems.push('No plan found in TAP output')
    else if (this.planned !== ran) problems.push(`planned ${this.planned} sub-test${this.planned === 1 ? '' : 's'} but ran ${ran}`)
    return problems.concat(this.errors)
  }
}
