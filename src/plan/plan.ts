import { argvFor, templateArgv } from './command.js'
import { discover, testId } from './discover.js'
import type { ResolvedOptions } from '../options/resolve.js'
import type { PlannedTest } from '../lanes/protocol.js'
import { discoveryWarnings, selectTests } from './select.js'
import { tapModeOf } from './tap-mode.js'

export interface PlanEntry extends PlannedTest {
  /** Absolute path of the test file. */
  file: string
}

export interface Plan {
  tests: PlanEntry[]
  warnings: string[]
}

/** Discovers the tests and settles the argv of each before anything runs, so bad input fails whole. */
export function planTests(opts: ResolvedOptions): Plan {
  const found = discover(opts.paths, opts.cwd, opts.pattern, opts.cmd !== null)
  // Selected before the argv is settled: a file left out is never a "don't know how to run" error.
  const chosen = selectTests(found.files.map((file) => ({ file, id: testId(opts.cwd, file) })), opts)
  const tests = chosen.map(({ id, file }): PlanEntry => {
    const argv = opts.cmd ? templateArgv(opts.cmd, file) : argvFor(file, id)
    const tap = tapModeOf(file)
    return tap ? { id, file, argv, tap } : { id, file, argv }
  })
  const warnings = [...found.warnings, ...discoveryWarnings(found.unrunnable.map((f) => testId(opts.cwd, f)), tests, opts)]
  return { tests, warnings }
}
