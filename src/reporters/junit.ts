import { hostname } from 'node:os'
import { posix } from 'node:path'
import type { RunResult, TestResult } from '../types.js'

/**
 * JUnit XML as GitHub, GitLab and Jenkins read it: one <testsuite name="claimrun">, one <testcase>
 * per test. Hand-written rather than through an XML builder: the format is one fixed, shallow tree,
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

function message(t: Pick<TestResult, 'status' | 'exitCode' | 'signal' | 'durationMs' | 'error'>): string {
  if (t.status === 'timedout') return `timed out after ${seconds(t.durationMs)} s`
  if (t.error) return t.error
  if (t.signal) return `killed by ${t.signal}`
  return `exit code ${t.exitCode}`
}

function testcase(t: TestResult): string {
  const folder = posix.dirname(t.id)
  const open = `    <testcase classname="${attr(folder)}" name="${attr(posix.basename(t.id))}" time="${seconds(t.durationMs)}" file="${attr(t.id)}">`
  const body: string[] = []
  switch (t.status) {
    case 'failed':
    case 'timedout':
      body.push(`      <failure message="${attr(message(t))}" type="${t.status}">${cdata(t.tail)}</failure>`)
      break
    case 'error':
      body.push(`      <error message="${attr(message(t))}" type="error">${cdata(t.tail)}</error>`)
      break
    case 'notrun':
    case 'interrupted':
      body.push(`      <skipped message="${t.status === 'notrun' ? 'not run' : 'interrupted'}"/>`)
      break
    default:
      break
  }
  for (const p of t.status === 'flaky' ? (t.previousAttempts ?? []) : []) {
    body.push(`      <flakyFailure message="${attr(message({ ...p, error: undefined }))}" type="${p.status}"><stackTrace>${cdata(p.tail)}</stackTrace></flakyFailure>`)
  }
  if (t.tail) body.push(`      <system-out>${cdata(t.tail)}</system-out>`)
  return body.length ? `${open}\n${body.join('\n')}\n    </testcase>` : `${open}</testcase>`
}

export function renderJunit(result: RunResult): string {
  const c = result.counts
  const failures = c.failed + c.timedout
  const skipped = c.notrun + c.interrupted
  const totals = `tests="${result.tests.length}" failures="${failures}" errors="${c.error}" skipped="${skipped}" time="${seconds(result.durationMs)}"`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="claimrun" ${totals}>`,
    `  <testsuite name="claimrun" ${totals} timestamp="${result.startedAt}" hostname="${attr(hostname())}">`,
    ...result.tests.map(testcase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}
