import { createRequire } from 'node:module'
import { StringDecoder } from 'node:string_decoder'
import type { Parser, Result } from 'tap-parser'
import type { SubtestStatus, SubtestSummary } from '../src/types.js'

/** The longest line looked at; the rest of a longer one is dropped (no TAP line needs more). */
const MAX_LINE = 64 * 1024
/** Failing sub-test names kept, and how long each may be. */
const MAX_FAILURES = 50
const MAX_NAME = 200
/** Top-level sub-tests listed by name (for JUnit); the counts cover all of them. */
const MAX_LISTED = 1000
/** Test point numbers remembered for tap-parser's duplicate check before the memory is given back. */
const MAX_IDS = 100_000

/** A test's stdout is TAP when its first line that is not blank or a comment is one of these. */
const TAP_START = /^(?:TAP version \d+|\d+\.\.\d+(?:\s+#.*)?|(?:not )?ok 1(?:\s.*)?)$/i
const YAML_START = /^(\s+)---\s*$/
const SUBTEST_COMMENT = /^# Subtest\b/
/** How every line tap-parser acts on starts (one cheap test before its full match, which is most of the cost on a flood). */
const MAYBE_TAP = /^(?:ok|not ok|\d|bail out!|pragma |tap version )/i

const cut = (name: string): string => (name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name)
/** A stand-in for a Result once it has been counted, so the duplicate-id map holds nothing big. */
const SEEN = Object.freeze({}) as Result

type TapParserLib = typeof import('tap-parser')
let lib: TapParserLib | undefined
/**
 * tap-parser and the YAML library under it take a worker thread longer to load than everything
 * else it loads together (~40 ms on an idle 2-core machine): loaded, synchronously, on the first
 * output that is TAP, not at every worker's start.
 */
const tapParser = (): TapParserLib => (lib ??= createRequire(import.meta.url)('tap-parser') as TapParserLib)

/** tap-parser's root, with the first few protocol errors (duplicate ids, ids outside the plan) kept as text. */
interface RootParser extends Parser {
  readonly errors: string[]
}
let RootParserClass: (new () => RootParser) | undefined
function rootParser(): RootParser {
  RootParserClass ??= class extends tapParser().Parser {
    readonly errors: string[] = []
    override tapError(error: Parameters<Parser['tapError']>[0], line: string): void {
      const text = typeof error === 'string' ? error : error.tapError
      if (text && this.errors.length < 5) this.errors.push(text)
      super.tapError(error, line)
    }
  }
  return new RootParserClass()
}

/**
 * Reads a test's stdout as TAP while it streams, when it is TAP: decides on the first meaningful
 * line, then hands tap-parser only the lines that can change a result (test points, plans, bail
 * outs, pragmas, subtest markers), never YAML blocks, comments or other prints, and only whole
 * lines (at most MAX_LINE long). What it keeps grows with the number of sub-tests at most (a few
 * bounded lists and the parser's id map, itself capped), never with the bytes printed.
 * Verdicts follow prove: a `not ok` that is not TODO/SKIP, a plan that does not match the count,
 * no plan at all, or `Bail out!` fail the test, whatever its exit code.
 */
export class TapStream {
  private state: 'undecided' | 'tap' | 'not-tap' = 'undecided'
  private readonly decoder = new StringDecoder('utf8')
  private partial = ''
  private overlong = false
  private yamlIndent: string | null = null
  private parser: RootParser | undefined
  private readonly counts: Record<SubtestStatus, number> = { passed: 0, failed: 0, skipped: 0, todo: 0 }
  private readonly failures: string[] = []
  private readonly listed: { name: string; status: SubtestStatus }[] = []
  private planned: number | undefined
  private skipAll: string | undefined
  private bailout: string | undefined
  private ending = false

  /** Feeds a chunk of stdout (any split: lines and UTF-8 sequences may cross chunks). */
  write = (chunk: Buffer): void => {
    if (this.state === 'not-tap') return
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
      const line = this.partial.endsWith('\r') ? this.partial.slice(0, -1) : this.partial
      this.partial = ''
      this.overlong = false
      this.line(line)
      if (this.state === 'not-tap') return
      from = nl + 1
    }
  }

  private line(line: string): void {
    if (this.state === 'undecided') {
      if (line.trim() === '' || line.startsWith('#')) return
      if (!TAP_START.test(line)) {
        this.state = 'not-tap'
        return
      }
      this.start()
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
    // Subtests are indented by four spaces a level; anything else indented is not TAP.
    const bare = line.replace(/^(?: {4})*/, '')
    if (bare === '{' || bare === '}' || (SUBTEST_COMMENT.test(bare) && !/^\s/.test(bare))) {
      this.parser?.write(`${line}\n`)
      return
    }
    if (!MAYBE_TAP.test(bare)) return
    const type = tapParser().lineType(`${bare}\n`)
    if (!type || type[0] === 'comment') return
    this.parser?.write(`${line}\n`)
  }

  private start(): void {
    this.state = 'tap'
    const parser = rootParser()
    parser.on('assert', (res: Result) => {
      const status: SubtestStatus = res.todo ? 'todo' : res.skip ? 'skipped' : res.ok ? 'passed' : 'failed'
      this.counts[status]++
      if (this.listed.length < MAX_LISTED) this.listed.push({ name: cut(res.name || `#${res.id || this.total()}`), status })
      if (res.id && parser.pointsSeen.get(res.id) === res) parser.pointsSeen.set(res.id, SEEN)
    })
    // `fail` reaches the root for nested sub-tests too, named `parent > child`.
    parser.on('fail', (res: Result) => {
      if (this.failures.length < MAX_FAILURES) this.failures.push(cut(res.fullname || res.name || `#${res.id}`))
    })
    parser.on('plan', (plan: { start: number; end: number; comment?: string }) => {
      if (this.ending) return
      this.planned = plan.end - plan.start + 1
      if (plan.start === 1 && plan.end === 0) {
        this.planned = 0
        this.skipAll = plan.comment?.replace(/^skip\S*\s*/i, '') ?? ''
      }
    })
    parser.on('bailout', (reason: string | boolean) => {
      this.bailout = typeof reason === 'string' ? reason : ''
    })
    this.parser = parser
  }

  private total(): number {
    return this.counts.passed + this.counts.failed + this.counts.skipped + this.counts.todo
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
    if (this.state !== 'not-tap') {
      const rest = this.decoder.end()
      if (rest || this.partial) this.take(`${rest}\n`)
    }
    const parser = this.parser
    if (this.state !== 'tap' || !parser) return undefined
    // Without a plan, tap-parser makes one up as it ends; prove would not, so neither do we.
    this.ending = true
    parser.end()
    return {
      ...this.counts,
      failures: this.failures,
      ...(this.planned !== undefined ? { planned: this.planned } : {}),
      ...(this.skipAll !== undefined ? { skipAll: this.skipAll } : {}),
      ...(this.bailout !== undefined ? { bailout: this.bailout } : {}),
      problems: this.problems(parser),
      tests: this.listed,
    }
  }

  /** Why this TAP fails its test, in prove's terms; empty when it does not. */
  private problems(parser: RootParser): string[] {
    const problems: string[] = []
    const ran = this.total()
    if (this.bailout !== undefined) problems.push(`Bail out!${this.bailout ? ` ${this.bailout}` : ''}`)
    if (this.counts.failed > 0) problems.push(`${this.counts.failed} of ${ran} sub-test${ran === 1 ? '' : 's'} failed`)
    if (this.bailout === undefined) {
      if (this.planned === undefined) problems.push(ran > 0 ? 'no plan' : 'no plan and no sub-tests')
      else if (this.planned !== ran) problems.push(`planned ${this.planned} sub-test${this.planned === 1 ? '' : 's'} but ran ${ran}`)
    }
    for (const e of parser.errors) {
      if (!/no plan|incorrect number of tests|Plan of 1\.\.0/.test(e)) problems.push(`invalid TAP: ${e}`)
    }
    return problems
  }
}
