import { createRequire } from 'node:module'
import { extname } from 'node:path'
import { badOption } from '../vocab/errors.js'
import { argvFor, isExecutable, RUNNABLE_EXTENSIONS, splitCommand, templateArgv } from './command.js'
import { perlArgv } from './perl-runner.js'
import { pythonRunner, type PythonRunner } from './python-runner.js'

/** A runner as the API and the config file give it: a command template, or one marked as speaking TAP. */

/** A validated runner: which files (a glob on test ids), the command's argv tokens, and whether its output is TAP. */
export interface Runner {
  glob: string
  tokens: string[]
  tap: boolean
  matches: (id: string) => boolean
}

const loadPicomatch = (): typeof import('picomatch') => createRequire(import.meta.url)('picomatch')

/**
 * Validates the `runners` option (glob → template, in order of precedence): a glob without `/`
 * matches file names (`*.ts`), one with `/` matches test ids (`t/**\/*.t`), as --pattern does.
 */
export function parseRunners(value: unknown): Runner[] {
  if (value === undefined) return []
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badOption('--runner', value, 'an object of glob → command template, such as { "*.ts": "tsx {file}" }')
  const picomatch = Object.keys(value).length ? loadPicomatch() : null
  return Object.entries(value as Record<string, unknown>).map(([glob, spec]) => {
    if (glob === '') throw badOption('--runner', glob, 'a glob such as "*.ts" before the "="')
    const { cmd, tap } = runnerSpec(glob, spec)
    const isMatch = (picomatch as NonNullable<typeof picomatch>)(glob, { dot: true, basename: !glob.includes('/') })
    return { glob, tokens: splitCommand(cmd, `--runner ${JSON.stringify(glob)}`), tap, matches: (id: string) => isMatch(id) }
  })
}

/** One runner's value: a template, or `{ cmd, tap }` and nothing else. */
function runnerSpec(glob: string, spec: unknown): { cmd: string; tap: boolean } {
  if (typeof spec === 'string') return { cmd: spec, tap: false }
  const fields = typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? (spec as Record<string, unknown>) : null
  const { cmd, tap, ...extra } = fields ?? {}
  if (!fields || typeof cmd !== 'string' || (tap !== undefined && typeof tap !== 'boolean') || Object.keys(extra).length) {
    throw badOption(`--runner ${JSON.stringify(glob)}`, spec, 'a command template such as "tsx {file}", or { "cmd": "<template>", "tap": true }')
  }
  return { cmd, tap: tap === true }
}


/** How one test runs: its argv, and whether its output is TAP to be read strictly (a `.t` whatever runs it, or a runner marked so). */
export interface TestCommand {
  argv: string[]
  tap: boolean
}

export interface RunnerContext {
  cwd: string
  cmd: string[] | null
  runners: Runner[]
  /** The environment the tests get (the process's, with the run's `env` over it). */
  env: Record<string, string | undefined>
}

/** Whether a file named like a test has something to run it, for discovery: --cmd, a runner, a known kind, or its own #!. */
export function hasRunner(ctx: Pick<RunnerContext, 'cmd' | 'runners'>, id: string, mode: () => number): boolean {
  return ctx.cmd !== null || ctx.runners.some((r) => r.matches(id)) || RUNNABLE_EXTENSIONS.includes(extname(id).toLowerCase()) || isExecutable(mode())
}

/**
 * The command of each test: --cmd for all when given; else the first runner whose glob matches;
 * else the built-in rule of its kind (`.py` through the project's Python framework, `.t` through
 * perl as prove runs it), else its own `#!` line or the interpreter of its extension.
 */
export function commandResolver(ctx: RunnerContext, tests: Array<{ id: string; file: string }>): (test: { id: string; file: string }) => TestCommand {
  let python: PythonRunner | undefined
  const pythonFiles = (): string[] => tests.filter((t) => extname(t.file).toLowerCase() === '.py').map((t) => t.file)
  return ({ id, file }) => {
    const ext = extname(file).toLowerCase()
    // A `.t` file's output is TAP whatever runs it, as prove reads every `.t`.
    if (ctx.cmd) return { argv: templateArgv(ctx.cmd, file), tap: ext === '.t' }
    const runner = ctx.runners.find((r) => r.matches(id))
    if (runner) return { argv: templateArgv(runner.tokens, file), tap: runner.tap || ext === '.t' }
    if (ext === '.py') return { argv: (python ??= pythonRunner(ctx.cwd, pythonFiles(), ctx.env)).argv(file, id), tap: false }
    if (ext === '.t') return { argv: perlArgv(file, ctx.env), tap: true }
    return { argv: argvFor(file, id), tap: false }
  }
}
