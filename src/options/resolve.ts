import { parseForkPath, type ForkPath } from './fork-path.js'
import { DEFAULTS } from './defaults.js'
import { statSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { splitCommand } from '../plan/command.js'
import { badOption, ClaimrunError } from '../vocab/errors.js'
import { parseDuration } from './duration.js'
import { checkStoreUrl } from './store-url.js'
import { parseWorkers } from './workers.js'
import { parseShard } from './shard.js'
import type { OrderMode } from '../plan/schedule.js'
import type { PlanOptions } from '../plan/plan.js'
import type { RunEvent, RunOptions } from '../vocab/types.js'
import { parseExcludes, parseGreps } from '../plan/select.js'
import { parseRunners } from '../plan/runners.js'
import { TEST_FOLDERS } from '../plan/discover.js'
import { closest } from '../util/closest.js'
import { parseDeclaredNeeds } from '../plan/needs.js'

const ORDERS: readonly OrderMode[] = ['smart', 'given', 'random']

/** Options after validation: every default filled, every path absolute. */
/**
 * The one test-only seam (as AVA's `_testOnlyReplaceWorkerPath`): the tests replace the worker
 * file with one of their own (test/support/dying-worker.mjs wraps the real one and dies on cue),
 * and hand it data through piscina's workerData. Nothing else in claimrun knows about it.
 */
export interface TestOnlyWorker {
  file: string
  data?: unknown
}

export interface ResolvedOptions extends PlanOptions {
  out: string
  timeoutMs: number
  killGraceMs: number
  maxOutput: number
  signal: AbortSignal | undefined
  forceSignal: AbortSignal | undefined
  onEvent: ((event: RunEvent) => void) | undefined
  testOnlyWorker: TestOnlyWorker | undefined
  exitsAfter: boolean
  forkPath: ForkPath
  bail: number
  retries: number
  failOnFlaky: boolean
  slowMs: number
  tap: boolean
  json: string | null
  junit: string | null
  html: string | null
  store: { url: string; runId: string; node: string; leaseMs: number; ttlS: number } | null
  setup: string[] | null
  teardown: string[] | null
}

/** Internal extras the CLI and the tests pass; not part of the documented options. */
export interface InternalOptions {
  /** Aborting it during a stop skips the grace period (the CLI's second Ctrl-C). */
  forceSignal?: AbortSignal
  /** Ids claimed before all others, in the usual order among themselves (watch mode: last failures first). */
  first?: string[]
  /** Test-only: replace the worker file (see lanes/pool.ts). */
  _testOnlyWorker?: TestOnlyWorker
  /**
   * The caller ends the process right after the run (the CLI): the worker threads are left for the
   * exit to end, which is quicker than ending them first, and the summary comes sooner.
   */
  exitsAfter?: boolean
  /** Who forks the tests (docs/design/spawner.md). @default the CLAIMRUN_SPAWNER environment variable, else 'auto' */
  spawner?: ForkPath
  /** The folder the `groups`, `weights` and `serial` globs are relative to (the config file's). @default cwd */
  needsBase?: string
}

function wholeNumber(value: unknown, flag: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badOption(flag, value, `a whole number from ${min} to ${max}`)
  }
  return value
}

/** The CI variables a shared run's id is taken from when --run-id is not given, in order. */
const RUN_ID_VARS = ['GITHUB_RUN_ID', 'CI_PIPELINE_ID', 'BUILDKITE_BUILD_ID', 'CIRCLE_WORKFLOW_ID', 'BUILD_TAG', 'CLAIMRUN_RUN_ID']

export function defaultRunId(): string | undefined {
  const name = RUN_ID_VARS.find((v) => process.env[v])
  if (!name) return undefined
  // A re-run of the same GitHub workflow is a new run of the suite.
  return name === 'GITHUB_RUN_ID' && process.env.GITHUB_RUN_ATTEMPT ? `${process.env[name]}-${process.env.GITHUB_RUN_ATTEMPT}` : process.env[name]
}

function storeOptions(options: RunOptions): NonNullable<ResolvedOptions['store']> {
  if (typeof options.store !== 'string' || options.store === '') throw badOption('--store', options.store, 'a URL such as redis://127.0.0.1:6379')
  for (const [flag, set] of [['--retries', options.retries], ['--bail', options.bail], ['--shard', options.shard], ['--last-failed', options.lastFailed]] as const) {
    if (set) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${flag} does not work with --store yet: a shared run schedules across machines by itself; drop ${flag}`)
  }
  const runId = options.runId ?? defaultRunId()
  if (!runId || !/^[\w.:-]{1,100}$/.test(runId)) {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', runId ? `--run-id must be 1-100 letters, digits, '.', ':', '_' or '-' (received ${JSON.stringify(runId)})` : '--store needs --run-id <id> (the same on every machine of the run), or a CI variable such as GITHUB_RUN_ID')
  }
  const node = options.node ?? `${hostname()}-${process.pid}`
  if (!/^[\w.:-]{1,100}$/.test(node)) throw badOption('--node', node, "1-100 letters, digits, '.', ':', '_' or '-'")
  return {
    url: checkStoreUrl(options.store),
    runId,
    node,
    leaseMs: parseDuration(options.lease ?? DEFAULTS.leaseS, '--lease', {
      minMs: 1000,
      minWhy: 'it is renewed every third of it, and a shorter lease lapses under an ordinary pause',
    }),
    // Redis keeps expiry in whole seconds; a year is far past any run anyone comes back to.
    ttlS: Math.round(parseDuration(options.ttl ?? DEFAULTS.ttlS, '--ttl', {
      minMs: 1000,
      minWhy: 'Redis expires keys in whole seconds',
      maxMs: 365 * 86_400_000,
      maxWhy: 'a shared run is not worth keeping longer than a year',
    }) / 1000),
  }
}

function outputFile(value: unknown, flag: string, cwd: string): string | null {
  if (value === undefined) return null
  if (typeof value !== 'string' || value === '') throw badOption(flag, value, 'a file path')
  return resolve(cwd, value)
}

function flag(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw badOption(name, value, 'true or false')
  return value
}

function pick<T extends string>(value: unknown, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined
  if (!allowed.includes(value as T)) throw badOption(flag, value, `one of ${allowed.join(', ')}`)
  return value as T
}

function envOption(env: unknown): Record<string, string> {
  if (env === undefined) return {}
  if (env === null || typeof env !== 'object' || Array.isArray(env)) throw badOption('--env', env, 'KEY=VALUE pairs (an object of strings in the API)')
  for (const [key, value] of Object.entries(env)) {
    if (key === '' || key.includes('=') || typeof value !== 'string') throw badOption('--env', `${key}=${String(value)}`, 'KEY=VALUE with a KEY without "=" and a string VALUE')
  }
  return env as Record<string, string>
}

/** Every key run() takes: the typecheck fails when an option is added to RunOptions and not here. */
const OPTION_KEYS: Readonly<Record<keyof RunOptions, true>> = {
  paths: true, workers: true, cmd: true, pattern: true, out: true, cwd: true, timeout: true, killGrace: true,
  maxOutput: true, history: true, order: true, seed: true, lastFailed: true, bail: true, retries: true,
  failOnFlaky: true, tap: true, slow: true, json: true, junit: true, html: true, store: true, runId: true,
  node: true, lease: true, ttl: true, shard: true, grep: true, exclude: true, setup: true, teardown: true,
  env: true, runners: true, groups: true, weights: true, serial: true, signal: true, onEvent: true,
}
const INTERNAL_KEYS: Readonly<Record<keyof InternalOptions, true>> = { forceSignal: true, first: true, _testOnlyWorker: true, exitsAfter: true, spawner: true, needsBase: true }

/** A key run() does not know is a mistake (a typo would otherwise be ignored in silence): named, with the closest key. */
function checkKeys(options: object): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(OPTION_KEYS, key) || Object.hasOwn(INTERNAL_KEYS, key)) continue
    const hint = closest(key, Object.keys(OPTION_KEYS))
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `unknown option ${JSON.stringify(key)}${hint ? ` (did you mean "${hint}"?)` : ''}; the options are the RunOptions of claimrun's types, claimrun run's flags in camelCase`)
  }
}

/** Validates once, at the public entry; past this point the types are trusted. */
export function resolveOptions(options: RunOptions & InternalOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw badOption('options', options, 'an object')
  checkKeys(options)
  if (options.cwd !== undefined && (typeof options.cwd !== 'string' || options.cwd === '')) throw badOption('cwd', options.cwd, 'a folder path')
  const cwd = resolve(options.cwd ?? process.cwd())
  if (!statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) throw badOption('cwd', options.cwd ?? cwd, 'an existing folder')
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw badOption('signal', options.signal, 'an AbortSignal (e.g. new AbortController().signal)')
  if (options.history !== undefined && options.history !== false && (typeof options.history !== 'string' || options.history === '')) {
    throw badOption('history', options.history, 'a file path, or false for no history')
  }
  let paths = options.paths ?? []
  if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string' || p === '')) {
    throw badOption('paths', paths, 'a list of file or folder paths')
  }
  if (paths.length === 0) {
    // test/ as before; else the folders other ecosystems keep tests in (pytest's tests/, Perl's t/, RSpec's spec/).
    const folders = TEST_FOLDERS.filter((f) => statSync(resolve(cwd, f), { throwIfNoEntry: false })?.isDirectory())
    if (folders.length === 0) {
      throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `no paths given and no test folder here (${TEST_FOLDERS.map((f) => `${f}/`).join(', ')}): name the tests to run, e.g. claimrun run path/to/tests`)
    }
    paths = folders[0] === 'test' ? ['test'] : folders
  }
  if (options.cmd !== undefined && typeof options.cmd !== 'string') throw badOption('--cmd', options.cmd, 'a command template')
  if (options.pattern !== undefined && (typeof options.pattern !== 'string' || options.pattern === '')) {
    throw badOption('--pattern', options.pattern, 'a glob such as "*.check.sh"')
  }
  if (options.out !== undefined && (typeof options.out !== 'string' || options.out === '')) {
    throw badOption('--out', options.out, 'a folder path')
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw badOption('onEvent', options.onEvent, 'a function')
  const needs = parseDeclaredNeeds(options, options.needsBase ?? cwd)
  return {
    paths,
    workers: options.workers === undefined ? DEFAULTS.workers : parseWorkers(options.workers),
    cmd: options.cmd === undefined ? null : splitCommand(options.cmd),
    runners: parseRunners(options.runners),
    pattern: options.pattern,
    out: resolve(cwd, options.out ?? DEFAULTS.out),
    cwd,
    timeoutMs: options.timeout === undefined ? 0 : parseDuration(options.timeout, '--timeout'),
    killGraceMs: parseDuration(options.killGrace ?? DEFAULTS.killGraceS, '--kill-grace', { allowZero: true }),
    maxOutput: options.maxOutput === undefined ? DEFAULTS.maxOutput : wholeNumber(options.maxOutput, '--max-output', 0, Number.MAX_SAFE_INTEGER),
    signal: options.signal,
    forceSignal: options.forceSignal,
    onEvent: options.onEvent,
    first: options.first ?? [],
    testOnlyWorker: options._testOnlyWorker,
    exitsAfter: options.exitsAfter === true,
    forkPath: parseForkPath(options.spawner),
    history: options.history === false ? null : resolve(cwd, options.history ?? DEFAULTS.history),
    order: pick(options.order, ORDERS, '--order') ?? DEFAULTS.order,
    seed: options.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : wholeNumber(options.seed, '--seed', 0, 2 ** 53),
    lastFailed: Boolean(options.lastFailed),
    bail: options.bail === undefined ? 0 : wholeNumber(options.bail, '--bail', 1, Number.MAX_SAFE_INTEGER),
    retries: options.retries === undefined ? 0 : wholeNumber(options.retries, '--retries', 0, 100),
    failOnFlaky: Boolean(options.failOnFlaky),
    shard: options.shard === undefined ? null : parseShard(String(options.shard)),
    slowMs: parseDuration(options.slow ?? DEFAULTS.slowS, '--slow'),
    tap: flag(options.tap, 'tap', true),
    json: outputFile(options.json, '--json', cwd),
    junit: outputFile(options.junit, '--junit', cwd),
    html: outputFile(options.html, '--html', cwd),
    store: options.store === undefined ? null : storeOptions(options),
    grep: parseGreps(options.grep),
    exclude: parseExcludes(options.exclude),
    setup: options.setup === undefined ? null : splitCommand(options.setup, '--setup'),
    teardown: options.teardown === undefined ? null : splitCommand(options.teardown, '--teardown'),
    env: envOption(options.env),
    needs,
  }
}
