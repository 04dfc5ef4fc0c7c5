import { argvFor, templateArgv } from './command.js'
import { discover, testId } from './discover.js'
import type { ResolvedOptions } from '../options/resolve.js'
import type { PlannedTest } from '../lanes/protocol.js'

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
  const { files, warnings } = discover(opts.paths, opts.cwd, opts.pattern)
  const tests = files.map((file) => {
    const id = testId(opts.cwd, file)
    return { id, file, argv: opts.cmd ? templateArgv(opts.cmd, file) : argvFor(file, id) }
  })
  return { tests, warnings }
}
