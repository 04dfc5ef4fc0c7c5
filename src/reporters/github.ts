import { appendFileSync } from 'node:fs'
import { isAbsolute, relative, sep } from 'node:path'
import { escapeControl, escapeLine } from '../util/escape.js'
import { isPassing, setupFailedIn } from '../record/outcome.js'
import { failedSetup } from '../vocab/hook-result.js'
import type { RunResult, TestResult } from '../vocab/types.js'
import { formatMs } from './format.js'
import { describeSubtests } from './subtests.js'
import { describe, failures, pipeline, slowestTests, totalsLine } from './summary.js'
import { plural } from '../util/plural.js'

/**
 * GitHub Actions, when `GITHUB_ACTIONS=true`: an `::error` annotation per failing test (a
 * `::warning` per flaky one) on stdout, where the runner reads workflow commands, and a Markdown
 * job summary appended to the file `$GITHUB_STEP_SUMMARY` names.
 */

/** Lines of a failure's output in its annotation, and in the job summary. */
const ANNOTATION_LINES = 20
const SUMMARY_LINES = 50
/** The job summary must stay under GitHub's 1 MiB per step: at most this many failures in full. */
const SUMMARY_FAILURES = 50

/** A workflow command's message: `%`, CR and LF are the characters the runner decodes. */
export const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')

/** A workflow command's property value: as a message, plus `:` and `,` which end a property. */
export const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C')

const lines = (text: string): string[] => {
  const all = escapeControl(text).split('\n')
  if (all.at(-1) === '') all.pop()
  return all
}

/** The file as GitHub resolves it: relative to the checkout (GITHUB_WORKSPACE) when inside it. */
function annotationFile(t: TestResult, cwd: string, workspace: string | undefined): string {
  const base = workspace || cwd
  const rel = relative(base, isAbsolute(t.file) ? t.file : `${cwd}${sep}${t.file}`)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : t.id
}

function command(kind: 'error' | 'warning', props: Record<string, string>, message: string): string {
  const list = Object.entries(props).map(([k, v]) => `${k}=${escapeProperty(v)}`).join(',')
  return `::${kind} ${list}::${escapeData(message)}`
}

/** A failed setup in one line: what failed, that no test ran, and where its output is. */
const setupLine = (result: RunResult): string =>
  result.setup ? `${failedSetup(result.setup)}, so no test was run (${plural(result.tests.length, 'test')} not run); its output is in ${result.setup.log} in the out folder` : ''

/**
 * One annotation per test that failed (and a warning per flaky one), its output's first lines as
 * the message; a failed setup is one error of its own (its tests did not fail: none ran).
 */
export function annotations(result: RunResult, cwd: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = []
  if (setupFailedIn(result)) out.push(command('error', { title: 'claimrun: setup failed' }, setupLine(result)))
  for (const t of failures(result)) {
    const output = lines(t.tail)
    const head = output.slice(0, ANNOTATION_LINES)
    if (output.length > head.length) head.push(`… (${plural(output.length - head.length, 'more line', 'more lines')} in the log)`)
    const message = [`${t.status} ${describe(t)}`, ...(t.error ? [t.error] : []), ...(t.subtests ? [describeSubtests(t.subtests)] : []), ...head].join('\n')
    out.push(command('error', { file: annotationFile(t, cwd, env.GITHUB_WORKSPACE), title: `claimrun: ${t.status}: ${escapeLine(t.id)}` }, message))
  }
  for (const t of result.tests.filter((x) => x.status === 'flaky')) {
    out.push(command('warning', { file: annotationFile(t, cwd, env.GITHUB_WORKSPACE), title: `claimrun: flaky: ${escapeLine(t.id)}` }, `passed on attempt ${t.attempts} ${describe(t)}`))
  }
  return out
}

/** A fence longer than any run of backticks in the text, so nothing inside can close it. */
const fenceFor = (text: string): string => '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)))

/** Inline code that holds any name: a long enough backtick string, padded when the name touches one. */
function code(text: string, inTable = false): string {
  const s = escapeLine(text)
  const ticks = '`'.repeat(Math.max(1, ...[...s.matchAll(/`+/g)].map((m) => m[0].length + 1)))
  const padded = s.startsWith('`') || s.endsWith('`') || s.startsWith(' ') ? ` ${s} ` : s
  // In a GFM table a `|` ends the cell even inside a code span unless escaped.
  return `${ticks}${inTable ? padded.replace(/\|/g, '\\|') : padded}${ticks}`
}

/** The job summary: totals, failures with their output, the slowest tests, the pipeline. */
export function stepSummary(result: RunResult): string {
  const c = result.counts
  const failing = failures(result)
  const passedAll = result.tests.every((t) => isPassing(t.status))
  const md: string[] = []
  md.push(`## claimrun: ${passedAll && !result.interrupted ? '✅' : '❌'} ${totalsLine(result)}`, '')
  if (setupFailedIn(result)) md.push(`**Setup failed:** ${escapeMarkdown(setupLine(result))}`, '')
  md.push('| passed | flaky | failed | timed out | error | interrupted | not run | tests | time |')
  md.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  md.push(`| ${c.passed} | ${c.flaky} | ${c.failed} | ${c.timedout} | ${c.error} | ${c.interrupted} | ${c.notrun} | ${result.tests.length} | ${formatMs(result.durationMs)} |`, '')
  if (failing.length) {
    md.push(`### Failures (${failing.length})`, '')
    for (const t of failing.slice(0, SUMMARY_FAILURES)) {
      md.push(`#### ${code(t.id)} ${t.status} ${escapeMarkdown(describe(t))}`, '')
      if (t.error) md.push(`error: ${code(t.error)}`, '')
      if (t.subtests) md.push(escapeMarkdown(describeSubtests(t.subtests)), '')
      const output = lines(t.tail).slice(-SUMMARY_LINES).join('\n')
      const fence = fenceFor(output)
      md.push(`${fence}text`, output || '(no output)', fence, '')
    }
    if (failing.length > SUMMARY_FAILURES) md.push(`…and ${failing.length - SUMMARY_FAILURES} more: see the report artifact.`, '')
  }
  const slow = slowestTests(result)
  if (slow.length) {
    md.push(`### Slowest ${slow.length}`, '', '| test | status | worker | duration |', '| --- | --- | --- | ---: |')
    for (const t of slow) md.push(`| ${code(t.id, true)} | ${t.status} | ${escapeMarkdown(t.worker ?? '-')} | ${formatMs(t.durationMs)} |`)
    md.push('')
  }
  const tree = pipeline(result).join('\n')
  md.push('### Pipeline', '', `${fenceFor(tree)}text`, tree, fenceFor(tree), '')
  return md.join('\n') + '\n'
}

/** Text outside code: Markdown's punctuation and HTML's `<` `&` shown as themselves. */
const escapeMarkdown = (s: string): string => escapeLine(s).replace(/[\\`*_{}[\]()#+\-.!|<>&~]/g, (ch) => (ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '&' ? '&amp;' : `\\${ch}`))

/** Whether to speak GitHub's language: the runner sets GITHUB_ACTIONS=true in every step. */
export const onGitHub = (env: NodeJS.ProcessEnv = process.env): boolean => env.GITHUB_ACTIONS === 'true'

/**
 * Writes the annotations to `stream` and appends the job summary to $GITHUB_STEP_SUMMARY.
 * Returns a warning when the summary file cannot be written (the run's outcome stands).
 */
export function reportToGitHub(result: RunResult, cwd: string, stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const line of annotations(result, cwd, env)) stream.write(line + '\n')
  const file = env.GITHUB_STEP_SUMMARY
  if (!file) return undefined
  try {
    appendFileSync(file, stepSummary(result))
    return undefined
  } catch (err) {
    return `could not append the job summary to GITHUB_STEP_SUMMARY (${file}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
  }
}
