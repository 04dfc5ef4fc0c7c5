import { ClaimrunError } from '../vocab/errors.js'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { DEFAULTS } from '../options/defaults.js'
import { displayPath, wantsColor } from '../reporters/format.js'
import type { SummaryMode } from '../reporters/summary.js'
import { summaryOption } from './parse.js'

export function registerShow(program: Command): void {
  program
    .command('show')
    .description("print a finished run's summary again, or rebuild its HTML report")
    .argument('[outdir]', "the run's out folder", DEFAULTS.out)
    .option('--html', 'rewrite <outdir>/report.html from results.json and the worker logs')
    .addOption(summaryOption())
    .action(async (outdir: string, flags: { html?: boolean; summary: SummaryMode }) => {
      const { readRun } = await import('../record/read-run.js')
      const result = readRun(resolve(outdir))
      if (flags.html) {
        const [{ renderReport }, { writeAtomic }] = await Promise.all([import('../reporters/html.js'), import('../record/out-dir.js')])
        const file = join(result.out, 'report.html')
        try {
          writeAtomic(file, renderReport(result, result.out))
        } catch (err) {
          throw new ClaimrunError('CLAIMRUN_OUT_NOT_WRITABLE', `could not write ${file} (${(err as NodeJS.ErrnoException).code ?? err}); check that the folder is writable`)
        }
        process.stdout.write(`claimrun: wrote ${displayPath(file, process.cwd())}\n`)
        return
      }
      const { renderSummary, wantsTable } = await import('../reporters/summary.js')
      process.stdout.write(renderSummary(result, { color: wantsColor(process.stdout), cwd: process.cwd(), table: wantsTable(flags.summary, result.tests.length, false) }))
    })
}
