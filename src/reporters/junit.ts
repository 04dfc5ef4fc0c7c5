import { hostname } from 'node:os'
import { posix } from 'node:path'
import { describeEnd, junitElement, setupFailedIn } from '../record/outcome.js'
import { failedSetup, type HookResult } from '../vocab/hook-result.js'
import type { RunResult, SubtestStatus, SubtestSummary, TestResult } from '../vocab/types.js'

/**
 * JUnit XML as GitHub, GitLab and Jenkins read it: one <testsuite name="claimrun">, one <testcase>
 * per test; except that a test whose output was TAP gets a <testsuite> of its own (named by its id)
 * with a <testcase> per sub-test, plus the file's own testcase when the file failed for a reason
 * no sub-test carries (a wrong plan, a bail out, a crash, a timeout). Hand-written rather than through an XML builder: the format is one fixed, shallow tree,
 * and the only hard part, escaping, is the few lines below, tested against a real XML parser.
 */

/** Characters XML 1.0 does not allow at all (not even escaped) become visible `\xNN` text. */
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const clean = (s: string): string => s.replace(INVALID, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)

export const attr = (s: string): string =>
  clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;')

/** CDATA can hold anything valid except its own terminator, which is split across two sections. */
const cdata = (s: string): string => `<![CDATA[${clean(s).replace(/]]>/g, ']]]]><![CDATA[>')}]]>`

const seconds = (ms: number | null): string => ((ms ?? 0) / 1000).toFixed(3)

/** How the test ended, in the outcome model's words (a timeout says after how long). */
function message(t: Pick<TestResult, 'status' | 'exitCode' | 'signal' | 'durationMs' | 'error' | 'attempts'>): string {
  return t.status === 'timedout' ? `timed out after ${seconds(t.durationMs)} s` : describeEnd(t)
}

/** Why a test was not run when the setup failed: the run's own error line, and where its output is. */
const setupText = (setup: HookResult): string => `${failedSetup(setup)}, so this test was not run; its output is in ${setup.log} in the out folder`

function testcase(t: TestResult, setupFailed = ''): string {
  // A test failed by its TAP says so (alone when it exited 0).
  const tap = t.status === 'failed' && t.subtests?.problems.length ? `TAP: ${t.subtests.problems.join('; ')}` : undefined
  const m = tap && describeEnd(t, tap)
  const folder = posix.dirname(t.id)
  const open = `    <testcase classname="${attr(folder)}" name="${attr(posix.basename(t.id))}" time="${seconds(t.durationMs)}" file="${attr(t.id)}">`
  const body: string[] = []
  const element = junitElement(t.status, setupFailed !== '')
  if (element === 'error' && setupFailed) body.push(`      <error message="${attr(t.error ?? message(t))}" type="setup">${cdata(setupFailed)}</error>`)
  else if (element === 'failure') body.push(`      <failure message="${attr(m ?? message(t))}" type="${t.status}">${cdata(t.tail)}</failure>`)
  else if (element === 'error') body.push(`      <error message="${attr(message(t))}" type="error">${cdata(t.tail)}</error>`)
  else if (element === 'skipped') body.push(`      <skipped message="${attr(message(t))}"/>`)
  for (const p of t.status === 'flaky' ? (t.previousAttempts ?? []) : []) {
    body.push(`      <flakyFailure message="${attr(message(p))}" type="${p.status}"><stackTrace>${cdata(p.tail)}</stackTrace></flakyFailure>`)
  }
  if (t.tail) body.push(`      <system-out>${cdata(t.tail)}</system-out>`)
  return body.length ? `${open}\n${body.join('\n')}\n    </testcase>` : `${open}</testcase>`
}

interface Tally {
  tests: number
  failures: number
  errors: number
  skipped: number
}

function tally(tests: TestResult[], setupFailed = false): Tally {
  const count = (element: 'failure' | 'error' | 'skipped'): number => tests.filter((t) => junitElement(t.status, setupFailed) === element).length
  return { tests: tests.length, failures: count('failure'), errors: count('error'), skipped: count('skipped') }
}

const totals = (t: Tally, ms: number | null): string =>
  `tests="${t.tests}" failures="${t.failures}" errors="${t.errors}" skipped="${t.skipped}" time="${seconds(ms)}"`

/** Whether a TAP test's file-level testcase is needed: it failed (or was flaky) for a reason its failing sub-tests do not already carry. */
const fileCaseNeeded = (t: TestResult): boolean => t.status !== 'passed' && !(t.status === 'failed' && (t.subtests?.failed ?? 0) > 0)

/** A TAP test's own suite: a testcase per sub-test (in order, as many as were listed). */
function tapSuite(t: TestResult, hostName: string, startedAt: string): { xml: string; tally: Tally } {
  const s = t.subtests as SubtestSummary
  const cases = s.tests.map((sub) => {
    const open = `    <testcase classname="${attr(t.id)}" name="${attr(sub.name)}" file="${attr(t.id)}"`
    if (sub.status === 'failed') return `${open}>\n      <failure message="${attr(`not ok: ${sub.name}`)}" type="failed"/>\n    </testcase>`
    if (sub.status === 'skipped' || sub.status === 'todo') return `${open}>\n      <skipped message="${sub.status}"/>\n    </testcase>`
    return `${open}></testcase>`
  })
  const own = fileCaseNeeded(t)
  if (own) cases.push(testcase(t))
  const mark = (status: SubtestStatus): number => s.tests.filter((sub) => sub.status === status).length
  const fileTally = own ? tally([t]) : { tests: 0, failures: 0, errors: 0, skipped: 0 }
  const sum: Tally = {
    tests: cases.length,
    failures: mark('failed') + fileTally.failures,
    errors: fileTally.errors,
    skipped: mark('skipped') + mark('todo') + fileTally.skipped,
  }
  const out = t.tail && !own ? [`    <system-out>${cdata(t.tail)}</system-out>`] : []
  const xml = [
    `  <testsuite name="${attr(t.id)}" ${totals(sum, t.durationMs)} timestamp="${startedAt}" hostname="${attr(hostName)}" file="${attr(t.id)}">`,
    ...cases,
    ...out,
    '  </testsuite>',
  ].join('\n')
  return { xml, tally: sum }
}

export function renderJunit(result: RunResult): string {
  const host = hostname()
  const plain = result.tests.filter((t) => !t.subtests)
  const tap = result.tests.filter((t) => t.subtests).map((t) => tapSuite(t, host, result.startedAt))
  // A failed setup: every test an error (the run is broken, exit 2), never a quiet "skipped".
  const setup = result.setup && setupFailedIn(result) ? setupText(result.setup) : ''
  const main = tally(plain, setup !== '')
  const all = [main, ...tap.map((s) => s.tally)].reduce((a, b) => ({ tests: a.tests + b.tests, failures: a.failures + b.failures, errors: a.errors + b.errors, skipped: a.skipped + b.skipped }))
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="claimrun" ${totals(all, result.durationMs)}>`,
    `  <testsuite name="claimrun" ${totals(main, result.durationMs)} timestamp="${result.startedAt}" hostname="${attr(host)}">`,
    ...plain.map((t) => testcase(t, setup)),
    '  </testsuite>',
    ...tap.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n')
}
