#!/usr/bin/env node
// The CLI: an adapter over run() and friends. One file per command (each registers its flags and
// turns them into the API's options); this entry only wires them up and turns errors into one line.
import { readFileSync, realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { Command, CommanderError } from 'commander'
import { ClaimrunError } from '../vocab/errors.js'
import { addBenchCommand } from './bench.js'
import { pathAfterBail } from './bail-arg.js'
import { nameConfigKey } from './config-file.js'
import { registerGenerate } from './generate-command.js'
import { registerReport } from './report-command.js'
import { configured, registerRun } from './run-command.js'
import { registerShow } from './show-command.js'
import { armStopSignals, finishCommand, guardUnfinished, say } from './guards.js'
import { escapeLine } from '../util/escape.js'
import { trace } from '../util/trace.js'

trace('main: loaded')

/** Exit codes: 0 all passed, 1 a test did not pass, 2 bad usage/config (nothing run) or a claimrun fault, 130/143 interrupted. */
const EXIT_USAGE = 2

function fail(message: string): never {
  finishCommand()
  say(`claimrun: ${message}\n`)
  process.exit(EXIT_USAGE)
}

// Read, not require()d: no module resolution or cache entry for one string.
const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }

const program = new Command('claimrun')
  .version(version)
  .description('Runs test scripts across worker threads; each test is claimed exactly once.')
  .exitOverride()
  .configureOutput({ outputError: () => {} })
  .showSuggestionAfterError(true)
  .addHelpText('after', "\nEach command lists its own options: claimrun run --help, claimrun report --help, ...")

registerRun(program)
registerReport(program)
registerShow(program)
registerGenerate(program)
addBenchCommand(program)
// Only `run` stops gracefully on a signal (bin.ts armed the handlers first); every other command
// gets Node's default back, and a signal that came while the command line was read acts now.
program.hook('preAction', (_program, command) => {
  if (command.name() !== 'run') armStopSignals().handOver()
})

// Run as a script itself (`node dist/src/cli/main.js ...`, which works as it always did): the command runs now.
// Else bin.ts runs it, once it has armed the guards (see bin.ts).
if (import.meta.url === scriptUrl()) void main()

function scriptUrl(): string {
  try {
    return pathToFileURL(realpathSync(process.argv[1] ?? '')).href
  } catch {
    return '' // no script (node -e), or one that is gone
  }
}

/** Runs the command the arguments name; resolves when it is done (bin.ts then ends the process). */
export async function main(): Promise<void> {
  // Bare `claimrun`: the help, on stdout, exit 0 (commander would treat it as an error).
  if (process.argv.length <= 2) {
    program.outputHelp()
    process.exit(0)
  }
  guardUnfinished(`claimrun ${escapeLine(process.argv[2] ?? '')}`)
  try {
    await program.parseAsync(process.argv[2] === 'run' ? pathAfterBail(process.argv) : process.argv)
  } catch (err) {
    reportError(err)
  }
  finishCommand()
}

function reportError(thrown: unknown): never {
  // A bad value from the config file: the flag's message, naming the file and the key.
  const err = nameConfigKey(thrown, configured?.config ?? null, configured?.fromFile ?? new Map())
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
      finishCommand()
      process.exit(0)
    }
    const message = escapeLine(err.message.replace(/^error: /, ''))
    fail(`${message}${/see|help/.test(message) ? '' : ` (see ${helpCommand()})`}`)
  }
  // Messages may quote text from a config file or a thrown error: one line, no raw escape codes.
  if (err instanceof ClaimrunError) {
    const message = escapeLine(err.message)
    fail(err.code === 'CLAIMRUN_BAD_OPTION' && !/--help/.test(message) ? `${message} (see ${helpCommand()})` : message)
  }
  const detail = process.env.CLAIMRUN_DEBUG ? `\n${(err as Error)?.stack}` : ' (set CLAIMRUN_DEBUG=1 for the stack)'
  fail(`internal error: ${escapeLine(String((err as Error)?.message ?? err))}${detail}`)
}

/** The help that lists the options of the command being run: `claimrun run --help`, or `claimrun --help`. */
function helpCommand(): string {
  const name = process.argv[2]
  return program.commands.some((c) => c.name() === name) ? `claimrun ${name} --help` : 'claimrun --help'
}
