import { join, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { ClaimrunError } from '../vocab/errors.js'
import { DEFAULTS } from '../options/defaults.js'
import type { InternalOptions } from '../options/resolve.js'
import { displayPath, wantsColor } from '../reporters/format.js'
import { lineReporter } from '../reporters/line-reporter.js'
import type { SummaryMode } from '../reporters/summary.js'
import type { RunEvent, RunOptions, RunResult } from '../vocab/types.js'
import { configureRun, type RunConfig } from './config-file.js'
import { armStopSignals, STOP_SIGNALS } from './guards.js'
import { listCommand } from './list.js'
import { number, summaryOption, warn } from './parse.js'
import { printFailedRun, printResult } from './print-result.js'
import { repeatable, runOptionsFromFlags } from './run-options.js'
import { trace } from '../util/trace.js'

/** The run's config file and which flags it set, for naming the key in an error (see main.ts). */
export let configured: RunConfig | undefined

/** `claimrun run`: its flags, then config, signals, reporters, the run (or watch), the summary, the exit code. */
export function registerRun(program: Command): void {
  program
      .command('run')
    .description('run the tests in the given files and folders (default: test/, else tests/, t/, spec/)')
    .argument('[paths...]', 'test files and folders')
    .option('-w, --workers <n>', 'worker threads, or auto (the CPUs available)', String(DEFAULTS.workers))
    .option('--cmd <template>', 'command for every test, e.g. "python3 -u {file}" (never run through a shell)')
    .option('--runner <glob=template>', "command for the tests whose name matches the glob, e.g. '*.ts=tsx {file}' (repeatable; see docs/runners.md)", repeatable, [])
    .option('--pattern <glob>', 'which files in folders are tests (default: test*, *.test.*, *-test.*, *_test.*, *.spec.*, *.t)')
    .option('--out <dir>', 'folder for worker logs, summary.txt and results.json', DEFAULTS.out)
    .option('--timeout <duration>', 'end a test that runs longer than this (30 = 30s; or 500ms, 2m)')
    .option('--kill-grace <duration>', 'between SIGTERM and SIGKILL when a test is ended', String(DEFAULTS.killGraceS))
    .option('--max-output <bytes>', 'bytes of output kept in the log per test', number, DEFAULTS.maxOutput)
    .option('--history <file>', 'durations and outcomes of earlier runs, read for ordering and updated after', DEFAULTS.history)
    .option('--no-history', 'neither read nor write a history file')
    .addOption(new Option('--order <mode>', 'claim order: smart (failed last time, unknown, then longest first), given, random').choices(['smart', 'given', 'random']).default(DEFAULTS.order))
    .option('--seed <n>', 'seed for --order random (printed at the start, so a run can be repeated)', number)
    .option('--last-failed', 'run only the tests that did not pass last time (all if none)')
    .option('--bail [n]', 'stop claiming after n failures (default 1; n is a number: in --bail t, t is a path); running tests finish', number)
    .option('--retries <n>', 'run a failed or timed-out test up to n more times, elsewhere where possible', number)
    .option('--fail-on-flaky', 'exit 1 when a test passed only on a retry')
    .option('--shard <i/n>', 'run only shard i of n (balanced by history), for CI matrices')
    .option('--slow <duration>', 'announce a test that runs longer than this', String(DEFAULTS.slowS))
    .option('--no-tap', "don't read test output as TAP, not even a .t file's (sub-tests are counted, and a not ok, a wrong or missing plan or Bail out! fails the test)")
    .option('--no-progress', 'no live view: one plain line per finished test, even on a terminal')
    .addOption(summaryOption())
    .option('--watch', 'run, then rerun on file changes (keys: a all, f failed, q quit)')
    .option('--json [file]', 'also write results.json to this file (with --list: print the plan as JSON)')
    .option('--junit <file>', 'write JUnit XML (GitHub, GitLab, Jenkins)')
    .option('--html <file>', 'write the HTML report here too (always in <out>/report.html)')
    .option('--ui', 'serve the live report on 127.0.0.1 while the run goes')
    .option('--ui-keep', 'with --ui: keep serving after the run ends, until Ctrl-C')
    .option('--store <url>', 'share the run through a Redis server (redis://host:port[/db], rediss:// for TLS)')
    .option('--run-id <id>', 'the shared run (same on every machine); default from GITHUB_RUN_ID, CI_PIPELINE_ID, ...')
    .option('--node <name>', "this process's name in a shared run (default <hostname>-<pid>)")
    .option('--lease <duration>', 'a claim in the store lapses unless renewed within this time', String(DEFAULTS.leaseS))
    .option('--ttl <duration>', 'how long the shared run is kept in the store', String(DEFAULTS.ttlS))
    .option('--grep <text>', 'run only tests whose id contains the text, or matches /regex/ (repeatable: any)', repeatable, [])
    .option('--exclude <glob>', 'leave out tests whose id, or a folder above it, matches the glob: tests/ leaves out everything under tests (repeatable)', repeatable, [])
    .option('--list', 'print the tests a run would claim, in order, with estimates and why; run nothing')
    .option('--setup <cmd>', 'run once before the first test (argv-split like --cmd); a failure runs no test')
    .option('--teardown <cmd>', 'run once after the last test, also after an interrupt or a failed setup')
    .option('--env <KEY=VAL>', 'set an environment variable for every test (repeatable)', repeatable, [])
    .option('--config <file>', 'options from this file (default: claimrun.config.{json,mjs,js}, or "claimrun" in package.json, from here up to the repository root)')
    .option('--no-config', 'read no config file')
    .action(async (cliPaths: string[], cliFlags: Record<string, unknown>, command: Command) => {
      trace('run-command: action')
      configured = await configureRun(command, cliFlags, cliPaths)
      trace('run-command: configured')
      const { paths, flags } = configured
      if (flags.list) return listCommand(runOptionsFromFlags(paths, flags), flags.json)
      // Armed by main.ts before anything else loaded (see guards.ts); here they learn the grace.
      const signals = armStopSignals()
      const { stop, force } = signals
      signals.grace = /^[\d.]+$/.test(String(flags.killGrace)) ? `${String(flags.killGrace)}s` : String(flags.killGrace)
      if (flags.watch) {
        for (const flag of ['ui', 'uiKeep', 'store'] as const) {
          if (flags[flag]) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--watch does not work with --${flag === 'uiKeep' ? 'ui-keep' : flag}: drop one of them`)
        }
      }
      const { run } = await import('../run.js')
      trace('run-command: run.js loaded')
      const color = wantsColor(process.stdout)
      const mode = flags.summary as SummaryMode
      const reporters: Array<(event: RunEvent) => void> = []
      const ui = flags.ui || flags.uiKeep ? await (await import('../reporters/ui-server.js')).startUiServer(resolve(String(flags.out))) : null
      if (ui) {
        process.stdout.write(`claimrun: live report at ${ui.url}\n`)
        reporters.push(ui.onEvent)
      }
      const options: RunOptions & InternalOptions = {
        ...runOptionsFromFlags(paths, flags),
        signal: stop.signal,
        forceSignal: force.signal,
        // bin.ts ends the process once the command is done; a watch runs again and --ui-keep goes on
        // serving, so those end their threads.
        exitsAfter: !flags.watch && !flags.uiKeep,
      }
      /** One run: a live view on a terminal (else plain lines), then the summary (of what `present` makes of the result: the whole suite, for a watch's partial rerun). */
      const runOnce = async (opts: RunOptions & InternalOptions, present: (r: RunResult) => RunResult = (r) => r): Promise<RunResult> => {
        // A terminal that reports no size (some CI ptys) gets plain lines: a live view needs rows to redraw in.
        // (The live view, the --ui server and the Redis client are loaded only when used: start-up time.)
        const live = flags.progress !== false && process.stdout.isTTY && process.stdout.rows > 0
          ? await (await import('../reporters/live-reporter.js')).liveReporter(process.stdout, color)
          : null
        const own = live ? live.onEvent : lineReporter(process.stdout, color, mode === 'short')
        let result
        try {
          result = await run({ ...opts, onEvent: (event) => { own(event); for (const r of reporters) r(event) } })
        } catch (err) {
          warn(printFailedRun(err, { cwd: process.cwd() }))
          throw err
        } finally {
          live?.stop()
        }
        trace('run-command: run returned')
        process.stdout.write('\n')
        warn(printResult(present(result), { color, cwd: process.cwd(), mode, linesPrinted: !live }))
        process.stdout.write(`report: ${displayPath(join(result.out, 'report.html'), process.cwd())}\n`)
        warn((result.outputErrors ?? []).map((e) => `${e}; exit code ${result.exitCode}`))
        trace('run-command: summary printed')
        return result
      }
      const result = flags.watch
        ? { exitCode: await (await import('./watch.js')).watchRuns({ options, runOnce, signal: stop.signal }) }
        : await runOnce(options)
      process.exitCode = result.exitCode
      signals.dispose()
      if (ui && flags.uiKeep) {
        process.stdout.write(`claimrun: still serving ${ui.url} (Ctrl-C to stop)\n`)
        await new Promise((resolveWait) => {
          for (const s of STOP_SIGNALS) process.once(s, resolveWait)
        })
      }
      await ui?.close()
    })
}
