import { discover, testId } from './discover.js'
import { commandResolver, hasRunner } from './runners.js'
import type { OrderMode, Shard } from './schedule.js'
import type { Grep } from './select.js'
import type { DeclaredNeeds } from './needs.js'
import type { Runner } from './runners.js'
import type { PlanEntry } from '../vocab/protocol.js'
import { discoveryWarnings, selectTests } from './select.js'

/**
 * What planning reads of a run's options. Declared here, below the options that satisfy it
 * (options/resolve.ts's ResolvedOptions extends it), so that planning never imports the options.
 */
export interface PlanOptions {
  paths: string[]
  cwd: string
  workers: number
  pattern: string | undefined
  cmd: string[] | null
  /** Runners by glob, in order of precedence (the command line's before the config file's). */
  runners: Runner[]
  env: Record<string, string>
  grep: Grep[]
  exclude: string[]
  history: string | null
  order: OrderMode
  seed: number
  lastFailed: boolean
  shard: Shard | null
  /** Ids claimed before all others, in the usual order among themselves (watch mode: last failures first). */
  first: string[]
  /** Lock groups, weights and serial tests declared by glob (file headers add to them at planning). */
  needs: DeclaredNeeds
}

export interface Plan {
  tests: PlanEntry[]
  warnings: string[]
  /** Every file discovery found, before --grep and --exclude (a lock group's glob is checked against them). */
  discovered: string[]
}

/** Discovers the tests and settles the argv of each before anything runs, so bad input fails whole. */
export function planTests(opts: PlanOptions): Plan {
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
