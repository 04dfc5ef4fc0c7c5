import { createRequire } from 'node:module'
import { ClaimrunError } from '../vocab/errors.js'
import { onGitHub, reportToGitHub } from '../reporters/github.js'
import { renderSummary, wantsTable, type SummaryMode } from '../reporters/summary.js'
import type { RunResult } from '../vocab/types.js'

export interface PrintOptions {
  color: boolean
  cwd: string
  mode: SummaryMode
  /** Each test already had a line of its own (no live view): the table would repeat them. */
  linesPrinted: boolean
  stream?: NodeJS.WriteStream
  env?: NodeJS.ProcessEnv
}

/**
 * The end of a run in the terminal: the summary (with the table only where it adds something), and
 * on GitHub Actions the annotations and the job summary. Returns warnings for stderr.
 */
export function printResult(result: RunResult, options: PrintOptions): string[] {
  const stream = options.stream ?? process.stdout
  const env = options.env ?? process.env
  const summary = renderSummary(result, { color: options.color, cwd: options.cwd, table: wantsTable(options.mode, result.tests.length, options.linesPrinted) })
  if (!onGitHub(env)) {
    stream.write(summary)
    return []
  }
  // The summary shows what tests printed; on Actions a line of it could be read as a workflow
  // command (`::add-mask::`, `::error::`), so command processing is paused around it.
  // Unguessable by what tests print. (node:crypto loads only here, not at every start: docs/design/lazy-loading.md.)
  const { randomBytes } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')
  const token = randomBytes(12).toString('hex')
  stream.write(`::stop-commands::${token}\n${summary}::${token}::\n`)
  const warning = reportToGitHub(result, options.cwd, stream, env)
  return warning ? [warning] : []
}

/**
 * A run that ended in an error still tells GitHub what it knows: a failed setup (the run's result
 * rides on the error as its cause) gets its annotation and job summary. Returns warnings for stderr.
 */
export function printFailedRun(err: unknown, options: Pick<PrintOptions, 'cwd' | 'stream' | 'env'>): string[] {
  const env = options.env ?? process.env
  if (!onGitHub(env) || !(err instanceof ClaimrunError) || err.code !== 'CLAIMRUN_SETUP_FAILED') return []
  const warning = reportToGitHub(err.cause as RunResult, options.cwd, options.stream ?? process.stdout, env)
  return warning ? [warning] : []
}
