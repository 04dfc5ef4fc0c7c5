import { resolve } from 'node:path'
import type { Command } from 'commander'
import { ClaimrunError } from '../vocab/errors.js'
import { DEFAULTS } from '../options/defaults.js'
import { defaultRunId } from '../options/resolve.js'
import { wantsColor } from '../reporters/format.js'
import type { SummaryMode } from '../reporters/summary.js'
import { parseDuration } from '../options/duration.js'
import { checkStoreUrl } from '../options/store-url.js'
import { summaryOption, warn } from './parse.js'
import { printResult } from './print-result.js'

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('combine the outcomes of a run shared through a store: summary, results.json, JUnit, HTML')
    .requiredOption('--store <url>', 'the Redis server the run used')
    .option('--run-id <id>', 'the shared run; default from GITHUB_RUN_ID, CI_PIPELINE_ID, ...')
    .option('--out <dir>', 'where to write the combined results', DEFAULTS.reportOut)
    .option('--wait <duration>', 'wait up to this long for every test to have an outcome (seconds, or 500ms, 2m)', '0')
    .addOption(summaryOption())
    .action(async (flags: { store: string; runId?: string; out: string; wait: number | string; summary: SummaryMode }) => {
      const runId = flags.runId ?? defaultRunId()
      if (!runId) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', 'report needs --run-id <id>, or a CI variable such as GITHUB_RUN_ID')
      const wait = parseDuration(flags.wait, '--wait', { allowZero: true }) / 1000
      const { report } = await (await import('../store/load-redis.js')).withRedis(() => import('../store/combine.js'))
      const result = await report({ store: checkStoreUrl(flags.store), runId, out: resolve(flags.out), wait })
      warn(printResult(result, { color: wantsColor(process.stdout), cwd: process.cwd(), mode: flags.summary, linesPrinted: false }))
      warn(result.warnings ?? [])
      warn((result.outputErrors ?? []).map((e) => `${e}; exit code ${result.exitCode}`))
      process.exitCode = result.exitCode
    })
}
