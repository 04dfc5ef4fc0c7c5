import { discover, testId } from './discover.js'
import { commandResolver, hasRunner } from './runners.js'
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
  const found = discover(opts.paths, opts.cwd, opts.pattern, (id, mode) => hasRunner(opts, id, mode))
  // Selected before the argv is settled: a file left out is never a "don't know how to run" error.
  const { tests: chosen, warnings: unmatched } = selectTests(found.files.map((file) => ({ file, id: testId(opts.cwd, file) })), opts)
  const commandOf = commandResolver({ cwd: opts.cwd, cmd: opts.cmd, runners: opts.runners, env: { ...process.env, ...opts.env } }, chosen)
  const tests = chosen.map((test): PlanEntry => {
    const { argv, tap } = commandOf(test)
    return tap ? { ...test, argv, tap: 'strict' } : { ...test, argv }
  })
  const warnings = [...found.warnings, ...unmatched, ...discoveryWarnings(found.unrunnable.map((f) => testId(opts.cwd, f)), tests, opts)]
  return { tests, warnings, discovered: found.files }
}
