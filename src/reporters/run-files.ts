import { dirname, join } from 'node:path'
import { writeAtomic } from '../record/out-dir.js'
import { ensureOut } from '../record/out-folder.js'
import { reportChunks } from './html.js'
import { renderJunit } from './junit.js'
import { summaryLines } from './summary.js'
import { jsonChunks } from '../util/json-chunks.js'
import { makeDirs } from '../util/make-dirs.js'
import type { RunResult } from '../vocab/types.js'

export interface RunFiles {
  cwd: string
  /** Extra copies the user asked for. */
  html?: string | null
  json?: string | null
  junit?: string | null
  /** Embed this machine's worker logs in the HTML (not for a report combined from a store). */
  logs?: boolean
}

/** The exit code when a file the run was asked to write could not be written. */
export const EXIT_OUTPUT_FAILED = 2

function why(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e.code === 'CLAIMRUN_NOT_A_FILE') return e.message
  if (e.code === 'ENXIO') return 'ENXIO: a FIFO that nobody reads'
  return e.code === 'ENOTDIR' ? 'ENOTDIR: a file is in the way' : e.code ?? e.message ?? String(err)
}

/**
 * Marks the result as having failed to write some of its files: each is named in `outputErrors`,
 * and the exit code becomes 2 (unless the run was interrupted: its signal's code says more).
 */
export function failOutputs(result: RunResult, errors: string[]): void {
  if (errors.length === 0) return
  result.outputErrors = [...(result.outputErrors ?? []), ...errors]
  if (!result.interrupted) result.exitCode = EXIT_OUTPUT_FAILED
}

/**
 * Writes a finished run's files, each atomically: results.json, summary.txt and report.html in the
 * out folder (recreated if a test deleted it), plus the copies asked for. Never throws: a file that
 * cannot be written is named in `result.outputErrors` and makes the exit code 2 (see failOutputs),
 * and results.json is then written again so that it says so too.
 */
export function writeRunFiles(result: RunResult, files: RunFiles): void {
  const { out } = result
  const errors: string[] = []
  // Each file is written as it is made, in pieces (see util/json-chunks.ts): whole, a large run's
  // files set the runner's peak memory at its very end (docs/design/memory.md).
  const attempt = (what: string, path: string, render: () => Iterable<string>): void => {
    try {
      makeDirs(dirname(path))
      writeAtomic(path, render())
    } catch (err) {
      errors.push(`could not write ${what} ${path} (${why(err)})`)
    }
  }
  const json = function* (): Generator<string> {
    const { out: _out, ...file } = result
    yield* jsonChunks(file, 2)
    yield '\n'
  }
  try {
    ensureOut(out)
  } catch (err) {
    errors.push(`could not recreate --out ${out} (${why(err)})`)
  }
  // Rendered inside attempt, after results.json: a report that cannot be rendered (its assets gone
  // from a broken install, say) is one more output error, never a lost results.json.
  const html = (): Iterable<string> => reportChunks(result, out, files.logs ?? true)
  attempt('results.json in', join(out, 'results.json'), json)
  attempt('summary.txt in', join(out, 'summary.txt'), () => withNewlines(summaryLines(result, { color: false, cwd: files.cwd })))
  attempt('report.html in', join(out, 'report.html'), html)
  if (files.html) attempt('--html', files.html, html)
  if (files.json) attempt('--json', files.json, json)
  if (files.junit) attempt('--junit', files.junit, () => renderJunit(result))
  if (errors.length === 0) return
  failOutputs(result, errors)
  // Best effort: the written copies of results.json now carry the exit code and the errors too.
  for (const path of [join(out, 'results.json'), files.json]) {
    if (!path) continue
    try {
      writeAtomic(path, json())
    } catch {
      // Already named in outputErrors.
    }
  }
}

function* withNewlines(lines: Iterable<string>): Generator<string> {
  for (const line of lines) yield `${line}\n`
}
