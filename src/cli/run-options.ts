import { badOption } from '../vocab/errors.js'
import type { InternalOptions } from '../options/resolve.js'
import type { RunOptions } from '../vocab/types.js'
import { CONFIG_ONLY } from './config-file.js'

/** commander's collector for a flag that may be given more than once. */
export const repeatable = (value: string, previous: string[] = []): string[] => [...previous, value]

/** Repeated `NAME=VALUE` flags as an object; a flag without `NAME=` is a usage error naming the form expected. */
function parsePairs(flag: string, pairs: string[], form: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw badOption(flag, pair, form)
    out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}

/** `--env KEY=VAL` flags as an environment object. */
export const parseEnv = (pairs: string[]): Record<string, string> => parsePairs('--env', pairs, 'KEY=VALUE, such as --env DATABASE_URL=postgres://localhost/test')

/** `--runner 'GLOB=TEMPLATE'` flags as the runners object. */
const parseRunnerFlags = (pairs: string[]): Record<string, string> => parsePairs('--runner', pairs, "GLOB=TEMPLATE, such as --runner '*.ts=tsx {file}'")

/** `--runner` flags, then the config file's `runners` for globs the flags did not name: the first match wins, so the command line's come first. */
function runnersFromFlags(flags: Record<string, unknown>): RunOptions['runners'] {
  const given = Array.isArray(flags.runner) && flags.runner.length ? parseRunnerFlags(flags.runner as string[]) : {}
  const fromFile = flags.runners as RunOptions['runners'] | undefined
  const runners: NonNullable<RunOptions['runners']> = { ...given }
  for (const [glob, spec] of Object.entries(fromFile ?? {})) if (!(glob in runners)) runners[glob] = spec
  return Object.keys(runners).length ? runners : undefined
}

/** The run's options from parsed `claimrun run` flags (command line and config file merged): a pure mapping. */
export function runOptionsFromFlags(paths: string[], flags: Record<string, unknown>): RunOptions & InternalOptions {
  const options: RunOptions & InternalOptions = {
    paths,
    workers: flags.workers as number | 'auto',
    out: flags.out as string,
    killGrace: flags.killGrace as number | string,
    maxOutput: flags.maxOutput as number,
    slow: flags.slow as number | string,
  }
  if (flags.cmd !== undefined) options.cmd = flags.cmd as string
  const runners = runnersFromFlags(flags)
  if (runners) options.runners = runners
  if (flags.pattern !== undefined) options.pattern = flags.pattern as string
  if (flags.timeout !== undefined) options.timeout = flags.timeout as number | string
  options.history = flags.history === false ? false : (flags.history as string)
  options.order = flags.order as 'smart'
  if (flags.seed !== undefined) options.seed = flags.seed as number
  if (flags.lastFailed) options.lastFailed = true
  if (flags.bail !== undefined) options.bail = flags.bail === true ? 1 : (flags.bail as number)
  if (flags.retries !== undefined) options.retries = flags.retries as number
  if (flags.failOnFlaky) options.failOnFlaky = true
  if (flags.tap === false) options.tap = false
  if (flags.shard !== undefined) options.shard = flags.shard as string
  for (const key of ['json', 'junit', 'html', 'store', 'runId', 'node', 'setup', 'teardown'] as const) if (typeof flags[key] === 'string') options[key] = flags[key] as string
  if (flags.json === true && !flags.list) throw badOption('--json', true, 'a file to write results.json to (a bare --json prints the plan, with --list)')
  if (options.store !== undefined) {
    options.lease = flags.lease as number | string
    options.ttl = flags.ttl as number | string
  }
  for (const key of ['grep', 'exclude'] as const) if (Array.isArray(flags[key]) && (flags[key] as string[]).length) options[key] = flags[key] as string[]
  if (Array.isArray(flags.env) && flags.env.length) options.env = parseEnv(flags.env as string[])
  else if (flags.env && typeof flags.env === 'object' && !Array.isArray(flags.env)) options.env = flags.env as Record<string, string>
  for (const key of CONFIG_ONLY) if (flags[key] !== undefined) (options as Record<string, unknown>)[key] = flags[key]
  if (typeof flags.needsBase === 'string') options.needsBase = flags.needsBase
  return options
}
