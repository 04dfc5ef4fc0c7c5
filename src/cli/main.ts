#!/usr/bin/env node
import { createRequire } from 'node:module'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { ClaimrunError } from '../errors.js'
import { DEFAULT_KILL_GRACE_S, DEFAULT_MAX_OUTPUT, DEFAULT_OUT, DEFAULT_WORKERS, defaultRunId, type InternalOptions } from '../options/resolve.js'
import { printResult } from './print-result.js'
import { SUMMARY_MODES, type SummaryMode } from '../reporters/summary.js'
import { displayPath, wantsColor } from '../reporters/format.js'
import { lineReporter } from '../reporters/line-reporter.js'
import { run } from '../run.js'
import { addBenchCommand } from './bench.js'
import { join, resolve } from 'node:path'
import type { RunEvent, RunOptions, RunResult } from '../types.js'
import { repeatable, runOptionsFromFlags } from './run-options.js'
import { listCommand } from './list.js'
import { configureRun, nameConfigKey, type RunConfig } from './config-file.js'

/** Exit codes: 0 all passed, 1 a test did not pass, 2 bad usage/config (nothing run) or a claimrun fault, 130/143 interrupted. */
const EXIT_USAGE = 2

function number(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number.')
  return n
}

function fail(message: string): never {
  process.stderr.write(`claimrun: ${message}\n`)
  process.exit(EXIT_USAGE)
}

function summaryOption(): Option {
  return new Option('--summary <mode>', 'the per-test table in the terminal: auto (small runs, ≤ 30 tests), full, short (never; only failures and progress lines while running)')
    .choices(SUMMARY_MODES)
    .default('auto')
}

function warn(messages: string[]): void {
  for (const m of messages) process.stderr.write(`claimrun: ${m}\n`)
}

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string }

/** The run's config file and which flags it set, for naming the key in an error. */
let configured: RunConfig | undefined

const program = new Command('claimrun')
  .version(version)
  .description('Runs test scripts across worker threads; each test is claimed exactly once.')
  .exitOverride()
  .configureOutput({ outputError: () => {} })
  .showSuggestionAfterError(true)
  .addHelpText('after', "\nEach command lists its own options: claimrun run --help, claimrun report --help, ...")

program
  .command('run')
  .description('run the tests in the given files and folders (default: test/)')
  .argument('[paths...]', 'test files and folders')
  .option('-w, --workers <n>', 'worker threads', number, DEFAULT_WORKERS)
  .option('--cmd <template>', 'command for every test, e.g. "python3 -u {file}" (never run through a shell)')
  .option('--pattern <glob>', 'which files in folders are tests (default: test*, *.test.*, *_test.*, *.spec.*)')
  .option('--out <dir>', 'folder for worker logs, summary.txt and results.json', DEFAULT_OUT)
  .option('--timeout <seconds>', 'end a test that runs longer than this', number)
  .option('--kill-grace <seconds>', 'seconds between SIGTERM and SIGKILL when a test is ended', number, DEFAULT_KILL_GRACE_S)
  .option('--max-output <bytes>', 'bytes of output kept in the log per test', number, DEFAULT_MAX_OUTPUT)
  .option('--history <file>', 'durations and outcomes of earlier runs, read for ordering and updated after', '.claimrun/history.json')
  .option('--no-history', 'neither read nor write a history file')
  .addOption(new Option('--order <mode>', 'claim order: smart (failed last time, unknown, then longest first), given, random').choices(['smart', 'given', 'random']).default('smart'))
  .option('--seed <n>', 'seed for --order random (printed at the start, so a run can be repeated)', number)
  .option('--last-failed', 'run only the tests that did not pass last time (all if none)')
  .option('--bail [n]', 'stop claiming after n failures (default 1); running tests finish', number)
  .option('--retries <n>', 'run a failed or timed-out test up to n more times, elsewhere where possible', number)
  .option('--fail-on-flaky', 'exit 1 when a test passed only on a retry')
  .option('--shard <i/n>', 'run only shard i of n (balanced by history), for CI matrices')
  .option('--slow <seconds>', 'announce a test that runs longer than this', number, 30)
  .option('--no-tap', "don't read test output as TAP (sub-tests are counted, and a not ok, a wrong plan or Bail out! fails the test)")
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
  .option('--lease <seconds>', 'a claim in the store lapses unless renewed within this time', number, 30)
  .option('--ttl <seconds>', 'how long the shared run is kept in the store', number, 86400)
  .option('--grep <text>', 'run only tests whose id contains the text, or matches /regex/ (repeatable: any)', repeatable, [])
  .option('--exclude <glob>', 'leave out tests whose id matches the glob (repeatable)', repeatable, [])
  .option('--list', 'print the tests a run would claim, in order, with estimates and why; run nothing')
  .option('--setup <cmd>', 'run once before the first test (argv-split like --cmd); a failure runs no test')
  .option('--teardown <cmd>', 'run once after the last test, also after an interrupt or a failed setup')
  .option('--env <KEY=VAL>', 'set an environment variable for every test (repeatable)', repeatable, [])
  .option('--config <file>', 'options from this file (default: claimrun.config.{json,mjs,js}, or "claimrun" in package.json, from here up to the repository root)')
  .option('--no-config', 'read no config file')
  .action(async (cliPaths: string[], cliFlags: Record<string, unknown>, command: Command) => {
    configured = await configureRun(command, cliFlags, cliPaths)
    const { paths, flags } = configured
    if (flags.list) return listCommand(runOptionsFromFlags(paths, flags), flags.json)
    const stop = new AbortController()
    const force = new AbortController()
    const onSignal = (signal: NodeJS.Signals): void => {
      if (!stop.signal.aborted) {
        process.stderr.write(`\nclaimrun: ${signal}: stopping; running tests get ${flags.killGrace} s to end (${signal === 'SIGINT' ? 'Ctrl-C again' : 'again'} to end them now)\n`)
        stop.abort(signal)
      } else {
        force.abort(signal)
      }
    }
    if (flags.watch) {
      for (const flag of ['ui', 'uiKeep', 'store'] as const) {
        if (flags[flag]) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--watch does not work with --${flag === 'uiKeep' ? 'ui-keep' : flag}: drop one of them`)
      }
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
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
    }
    /** One run: a live view on a terminal (else plain lines), then the summary. */
    const runOnce = async (opts: RunOptions & InternalOptions): Promise<RunResult> => {
      // A terminal that reports no size (some CI ptys) gets plain lines: a live view needs rows to redraw in.
      // (The live view, the --ui server and the Redis client are loaded only when used: start-up time.)
      const live = flags.progress !== false && process.stdout.isTTY && process.stdout.rows > 0
        ? (await import('../reporters/live-reporter.js')).liveReporter(process.stdout, color)
        : null
      const own = live ? live.onEvent : lineReporter(process.stdout, color, mode === 'short')
      let result
      try {
        result = await run({ ...opts, onEvent: (event) => { own(event); for (const r of reporters) r(event) } })
      } finally {
        live?.stop()
      }
      process.stdout.write('\n')
      warn(printResult(result, { color, cwd: process.cwd(), mode, linesPrinted: !live }))
      process.stdout.write(`report: ${displayPath(join(result.out, 'report.html'), process.cwd())}\n`)
      return result
    }
    const result = flags.watch
      ? { exitCode: await (await import('./watch.js')).watchRuns({ options, runOnce, signal: stop.signal }) }
      : await runOnce(options)
    process.exitCode = result.exitCode
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (ui && flags.uiKeep) {
      process.stdout.write(`claimrun: still serving ${ui.url} (Ctrl-C to stop)\n`)
      await new Promise((resolveWait) => process.once('SIGINT', resolveWait))
    }
    await ui?.close()
  })

program
  .command('report')
  .description('combine the outcomes of a run shared through a store: summary, results.json, JUnit, HTML')
  .requiredOption('--store <url>', 'the Redis server the run used')
  .option('--run-id <id>', 'the shared run; default from GITHUB_RUN_ID, CI_PIPELINE_ID, ...')
  .option('--out <dir>', 'where to write the combined results', '.claimrun/report')
  .option('--wait <seconds>', 'wait up to this long for every test to have an outcome', number, 0)
  .addOption(summaryOption())
  .action(async (flags: { store: string; runId?: string; out: string; wait: number; summary: SummaryMode }) => {
    const runId = flags.runId ?? defaultRunId()
    if (!runId) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', 'report needs --run-id <id>, or a CI variable such as GITHUB_RUN_ID')
    const { report } = await (await import('../store/load-redis.js')).withRedis(() => import('../store/combine.js'))
    const result = await report({ store: flags.store, runId, out: resolve(flags.out), wait: flags.wait })
    warn(printResult(result, { color: wantsColor(process.stdout), cwd: process.cwd(), mode: flags.summary, linesPrinted: false }))
    warn(result.warnings ?? [])
    process.exitCode = result.exitCode
  })

program
  .command('show')
  .description("print a finished run's summary again, or rebuild its HTML report")
  .argument('[outdir]', 'the run\'s out folder', DEFAULT_OUT)
  .option('--html', 'rewrite <outdir>/report.html from results.json and the worker logs')
  .addOption(summaryOption())
  .action(async (outdir: string, flags: { html?: boolean; summary: SummaryMode }) => {
    const { readRun } = await import('../record/read-run.js')
    const result = readRun(resolve(outdir))
    if (flags.html) {
      const [{ renderReport }, { writeAtomic }] = await Promise.all([import('../reporters/html.js'), import('../record/out-dir.js')])
      const file = join(result.out, 'report.html')
      writeAtomic(file, renderReport(result, result.out))
      process.stdout.write(`claimrun: wrote ${displayPath(file, process.cwd())}\n`)
      return
    }
    const { renderSummary, wantsTable } = await import('../reporters/summary.js')
    process.stdout.write(renderSummary(result, { color: wantsColor(process.stdout), cwd: process.cwd(), table: wantsTable(flags.summary, result.tests.length, false) }))
  })

program
  .command('generate')
  .description('write a demo suite of sleeping test scripts, some failing')
  .argument('<dir>', 'folder to write the tests into')
  .option('--count <n>', 'number of tests', number, 20)
  .option('--failures <n>', 'how many of them fail', number, 3)
  .option('--min-ms <ms>', 'shortest sleep', number, 100)
  .option('--max-ms <ms>', 'longest sleep', number, 2000)
  .option('--seed <n>', 'same seed, same suite', number, 1)
  .addOption(new Option('--lang <lang>', 'language of the tests').choices(['js', 'py', 'sh']).default('js'))
  .action(async (dir: string, flags: { count: number; failures: number; minMs: number; maxMs: number; seed: number; lang: 'js' | 'py' | 'sh' }) => {
    const { generateSuite } = await import('../demo/generate.js')
    const tests = generateSuite(dir, flags)
    const sum = tests.reduce((s, t) => s + t.sleepMs, 0)
    process.stdout.write(`claimrun: wrote ${tests.length} tests (${tests.filter((t) => t.fails).length} failing, ${(sum / 1000).toFixed(1)} s of sleep) to ${dir}\n`)
  })

addBenchCommand(program)

// Bare `claimrun`: the help, on stdout, exit 0 (commander would treat it as an error).
if (process.argv.length <= 2) {
  program.outputHelp()
  process.exit(0)
}
try {
  await program.parseAsync(process.argv)
} catch (err) {
  reportError(err)
}

function reportError(thrown: unknown): never {
  // A bad value from the config file: the flag's message, naming the file and the key.
  const err = nameConfigKey(thrown, configured?.config ?? null, configured?.fromFile ?? new Map())
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) process.exit(0)
    const message = err.message.replace(/^error: /, '')
    fail(`${message}${/see|help/.test(message) ? '' : ` (see ${helpCommand()})`}`)
  }
  if (err instanceof ClaimrunError) fail(err.code === 'CLAIMRUN_BAD_OPTION' && !/--help/.test(err.message) ? `${err.message} (see ${helpCommand()})` : err.message)
  const detail = process.env.CLAIMRUN_DEBUG ? `\n${(err as Error)?.stack}` : ' (set CLAIMRUN_DEBUG=1 for the stack)'
  fail(`internal error: ${(err as Error)?.message ?? String(err)}${detail}`)
}

/** The help that lists the options of the command being run: `claimrun run --help`, or `claimrun --help`. */
function helpCommand(): string {
  const name = process.argv[2]
  return program.commands.some((c) => c.name() === name) ? `claimrun ${name} --help` : 'claimrun --help'
}
