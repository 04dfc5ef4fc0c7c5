import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { writeAtomic } from './out-dir.js'
import { renderReport } from '../reporters/html.js'
import { renderJunit } from '../reporters/junit.js'
import { renderSummary } from '../reporters/summary.js'
import type { RunResult } from '../types.js'

export interface RunFiles {
  cwd: string
  /** Extra copies the user asked for. */
  html?: string | null
  json?: string | null
  junit?: string | null
  /** Embed this machine's worker logs in the HTML (not for a report combined from a store). */
  logs?: boolean
}

/**
 * Writes a finished run's files, each atomically: results.json, summary.txt and report.html in the
 * out folder, plus the copies asked for. results.json and summary.txt must be written (they throw);
 * a report that cannot be written is returned as a message, and the others are still written.
 */
export function writeRunFiles(result: RunResult, files: RunFiles): string[] {
  const { out, ...file } = result
  const json = JSON.stringify(file, null, 2) + '\n'
  writeAtomic(join(out, 'results.json'), json)
  writeAtomic(join(out, 'summary.txt'), renderSummary(result, { color: false, cwd: files.cwd }))
  const html = renderReport(result, out, files.logs ?? true)
  const targets: Array<[string | null | undefined, () => string]> = [
    [join(out, 'report.html'), () => html],
    [files.html, () => html],
    [files.json, () => json],
    [files.junit, () => renderJunit(result)],
  ]
  const errors: string[] = []
  for (const [path, render] of targets) {
    if (!path) continue
    try {
      mkdirSync(dirname(path), { recursive: true })
      writeAtomic(path, render())
    } catch (err) {
      errors.push(`could not write ${path}: ${(err as Error).message}`)
    }
  }
  return errors
}
