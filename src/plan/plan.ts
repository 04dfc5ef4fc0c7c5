import { argvFor, templateArgv } from './command.js'
import { discover, testId } from './discover.js'
import type { ResolvedOptions } from '../options/resolve.js'
import type { PlannedTest } from '../lanes/protocol.js'
import { discoveryWarnings, selectTests } from './select.js'

export interface PlanEntry extends PlannedTest {
  /** Absolute path of the test file. */
  file: string
}

export interface Plan {
  tests: PlanEntry[]
  warnings: string[]
  /** Every file discovery found, before --grep and --exclude (a lock group's glob is checked against them). */
  discovered: string[]
}

/** Discovers the tests and settles the argv of each before anything runs, so bad input fails whole. */
export function planTests(opts: ResolvedOptions): Plan {
  const found = discover(opts.paths, opts.cwd, opts.pattern, opts.cmd !== null)
  // Selected before the argv is settled: a file left out is never a "don't know how to run" error.
  const chosen = selectTests(found.files.map((file) => ({ file, id: testId(opts.cwd, file) })), opts)
  const tests = chosen.map(({ id, file }) => ({ id, file, argv: opts.cmd ? templateArgv(opts.cmd, file) : argvFor(file, id) }))
  const warnings = [...found.warnings, ...discoveryWarnings(found.unrunnable.map((f) => testId(opts.cwd, f)), tests, opts)]
  return { tests, warnings, discovered: found.files }
}
