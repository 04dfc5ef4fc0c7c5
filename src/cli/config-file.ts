import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Command } from 'commander'
import { ClaimrunError } from '../vocab/errors.js'
import { displayPath } from '../reporters/format.js'
import { parseRunners } from '../plan/runners.js'
import { escapeLine } from '../util/escape.js'
import { armStopSignals } from './guards.js'
import { closest } from '../util/closest.js'

/** The file names claimrun looks for in each folder, in this order; a package.json counts only with a "claimrun" key. */
export const CONFIG_NAMES = ['claimrun.config.json', 'claimrun.config.mjs', 'claimrun.config.js', 'package.json'] as const

export interface ConfigFile {
  /** Absolute path of the file (a package.json when the config is its "claimrun" key). */
  file: string
  /** How messages name it: `claimrun.config.json`, or `package.json ("claimrun")`, relative to the cwd. */
  label: string
  values: Record<string, unknown>
}

/** Flags that are not settings: a config file cannot hold them. */
const NOT_SETTINGS = new Set(['list', 'config', 'help'])
/** Keys whose values are paths: relative to the config file's folder, not to wherever claimrun runs. */
const PATH_KEYS = new Set(['paths', 'out', 'history', 'json', 'junit', 'html'])
const REPEATABLE = new Set(['grep', 'exclude'])
/** Keys only a config file holds (too structured for a flag): checked by run()'s own validation. */
export const CONFIG_ONLY = ['groups', 'weights', 'serial'] as const

/** A config (or a package.json looked into for one) larger than this is refused unread. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024
/** A JS config still loading after this long is given up on (a top-level await that never settles, say). */
const LOAD_DEADLINE_MS = 10_000

const configError = (label: string, what: string): ClaimrunError => new ClaimrunError('CLAIMRUN_BAD_OPTION', `${label}: ${what}`)

/** The text of an error thrown by a config's own code, on one line and without escape codes. */
const thrownText = (err: unknown): string => escapeLine(String((err as Error | null)?.message ?? err))

/**
 * Why a config file cannot be read, or null: only a regular file of bounded size is (a symlink to
 * /dev/zero would be read forever, and opening a FIFO waits forever for a writer).
 */
function unreadable(file: string): string | null {
  const st = statSync(file, { throwIfNoEntry: false })
  if (!st) return 'no such file'
  if (!st.isFile()) return `is not a regular file (${st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : 'not a file'})`
  if (st.size > MAX_CONFIG_BYTES) return `is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MB`
  return null
}

/** Reads a regular file of bounded size; anything else (a FIFO, a device) throws, without blocking. */
function readBounded(file: string): string {
  // Non-blocking, so that a file swapped for a FIFO after the check still cannot hang the open.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const st = fstatSync(fd)
    if (!st.isFile() || st.size > MAX_CONFIG_BYTES) throw Object.assign(new Error('not a regular file of bounded size'), { code: 'EINVAL' })
    const buf = Buffer.allocUnsafe(st.size)
    let got = 0
    for (let n = -1; got < buf.length && n !== 0; got += n) n = readSync(fd, buf, got, buf.length - got, got)
    return buf.toString('utf8', 0, got)
  } finally {
    closeSync(fd)
  }
}

function hasClaimrunKey(file: string): boolean {
  try {
    const data = JSON.parse(readBounded(file)) as unknown
    return typeof data === 'object' && data !== null && 'claimrun' in data
  } catch {
    return false // a broken package.json is npm's to report, not ours
  }
}

/**
 * The config file for a run started in `cwd`: the first folder from `cwd` upward that holds one,
 * stopping after the folder with `.git` in it (the repository's root: a config outside the
 * repository is not the project's) or at the filesystem root. Two configs in one folder is an error.
 */
export function findConfigFile(cwd: string): string | null {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    // lstat, not exists: a dangling claimrun.config.* symlink is named in an error, never skipped.
    const found = CONFIG_NAMES.map((name) => join(dir, name)).filter((f) => lstatSync(f, { throwIfNoEntry: false }) && (basename(f) !== 'package.json' || hasClaimrunKey(f)))
    if (found.length > 1) {
      throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `two claimrun configs in ${displayPath(dir, cwd)}: ${found.map((f) => describeFile(f, cwd)).join(' and ')}; keep one`)
    }
    if (found.length === 1) return found[0] as string
    if (lstatSync(join(dir, '.git'), { throwIfNoEntry: false }) || dirname(dir) === dir) return null
  }
}

const describeFile = (file: string, cwd: string): string =>
  basename(file) === 'package.json' ? `${displayPath(file, cwd)} ("claimrun" key)` : displayPath(file, cwd)

/** Reads a config file: JSON, an ES module or CommonJS file whose default export is the object, or package.json's "claimrun" key. */
export async function loadConfigFile(file: string, cwd: string): Promise<ConfigFile> {
  const label = describeFile(file, cwd)
  const problem = unreadable(file)
  if (problem === 'no such file' && lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) {
    throw configError(label, 'is a symlink to a file that does not exist; fix the link or remove it, or pass --no-config')
  }
  if (problem === 'no such file') throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--config ${JSON.stringify(displayPath(file, cwd))}: no such file`)
  if (problem) throw configError(label, `${problem}; claimrun reads a config only from a regular file, or pass --no-config`)
  let values: unknown
  if (/\.json$/i.test(file)) {
    try {
      values = JSON.parse(readBounded(file))
    } catch (err) {
      throw configError(label, `not valid JSON (${thrownText(err)}); fix it, or pass --no-config`)
    }
    if (basename(file) === 'package.json') values = (values as Record<string, unknown> | null)?.claimrun
  } else if (/\.[cm]?js$/i.test(file)) {
    values = await loadModuleConfig(file, label)
  } else {
    throw configError(label, 'is not a config file claimrun reads: use a .json, .mjs or .js file (or the "claimrun" key of package.json)')
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw configError(label, `must hold an object of run options, such as { "workers": 4, "timeout": "30s" } (received ${escapeLine(String(JSON.stringify(values) ?? typeof values))})`)
  }
  return { file, label, values: values as Record<string, unknown> }
}

/**
 * A JS config's default export, as plain data. Its code runs in this thread, so while it loads the
 * stop signals have their default action (a `while (true) {}` can still be stopped: the process
 * ends, nothing having run), and a load that has not finished by the deadline (a top-level await
 * that never settles) is one line and exit 2. The export is copied with structuredClone inside the
 * same guard, so a getter that throws or a function in it is a config error, not a crash later.
 */
async function loadModuleConfig(file: string, label: string): Promise<unknown> {
  const rearm = armStopSignals().suspend()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still loading after ${LOAD_DEADLINE_MS / 1000} s (a top-level await that never settles?)`)), LOAD_DEADLINE_MS)
  })
  try {
    const mod = await Promise.race([import(pathToFileURL(file).href) as Promise<{ default?: unknown }>, deadline])
    return structuredClone(mod.default)
  } catch (err) {
    throw configError(label, `could not be loaded (${thrownText(err)}); fix it, or pass --no-config`)
  } finally {
    clearTimeout(timer)
    rearm()
  }
}

export interface AppliedConfig {
  /** The run's flags: the command line's where given, else the config file's, else the defaults. */
  flags: Record<string, unknown>
  paths: string[]
  /** The flags that came from the file, by flag (`--workers` → `workers`), to name the key in an error. */
  fromFile: Map<string, string>
}

/**
 * Merges a config file under the command line: every key is a `claimrun run` option in camelCase
 * (`workers`, `killGrace`, `failOnFlaky`, ...) plus `paths`; a flag given on the command line wins.
 * Only the key's shape is checked here (a switch is true or false, a list is strings); its value is
 * validated with the flag's own rule and message later, and `fromFile` lets that message name the key.
 */
export function applyConfig(config: ConfigFile, command: Command, flags: Record<string, unknown>, paths: string[]): AppliedConfig {
  const options = command.options.filter((o) => !NOT_SETTINGS.has(o.attributeName()))
  // `runners` is the object the repeatable --runner flag builds (glob → template), named as a map.
  const known = [...new Set(options.map((o) => o.attributeName()).filter((k) => k !== 'runner')), 'paths', 'runners', ...CONFIG_ONLY]
  const merged = { ...flags }
  const fromFile = new Map<string, string>()
  let mergedPaths = paths
  const base = dirname(config.file)
  const bad = (key: string, what: string): ClaimrunError => new ClaimrunError('CLAIMRUN_BAD_OPTION', `${config.label}, key "${key}": ${what}`)
  const pathValue = (key: string, v: unknown): unknown => (PATH_KEYS.has(key) && typeof v === 'string' && v !== '' ? resolve(base, v) : v)

  for (const [key, raw] of Object.entries(config.values)) {
    if (!known.includes(key)) {
      const hint = closest(key, known)
      throw configError(config.label, `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}; the keys are claimrun run's options in camelCase, see claimrun run --help`)
    }
    if (key === 'paths') {
      const list = typeof raw === 'string' ? [raw] : raw
      if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p === '')) throw bad(key, `must be a list of test files and folders (received ${JSON.stringify(raw)})`)
      if (paths.length === 0) mergedPaths = list.map((p) => pathValue(key, p) as string)
      continue
    }
    if (key === 'runners') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw bad(key, `must be an object of glob → command template, such as { "*.ts": "tsx {file}", "*.t": { "cmd": "perl {file}", "tap": true } } (received ${JSON.stringify(raw)})`)
      }
      // Checked here, whole: a later --runner error is then the command line's, never the file's.
      try {
        parseRunners(raw)
      } catch (err) {
        throw bad(key, (err as Error).message)
      }
      merged.runners = raw
      continue
    }
    if ((CONFIG_ONLY as readonly string[]).includes(key)) {
      merged[key] = raw
      // Their globs name files relative to the config file, as its paths do.
      merged.needsBase = base
      continue
    }
    const mine = options.filter((o) => o.attributeName() === key)
    const flag = (mine.find((o) => !o.negate) ?? mine[0])?.long ?? `--${key}`
    if (command.getOptionValueSource(key) === 'cli') continue
    const takesValue = mine.some((o) => o.required || o.optional)
    let value: unknown = raw
    if (!takesValue && typeof raw !== 'boolean') throw bad(key, `must be true or false, as the switch ${flag} is (received ${JSON.stringify(raw)})`)
    if (mine.length > 1 && raw === true) throw bad(key, `must be a value, or false for ${mine.find((o) => o.negate)?.long} (received true)`)
    if (REPEATABLE.has(key)) {
      value = typeof raw === 'string' ? [raw] : raw
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad(key, `must be a string or a list of strings, as repeated ${flag} flags are (received ${JSON.stringify(raw)})`)
    } else if (key === 'env') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.values(raw).some((v) => typeof v !== 'string')) {
        throw bad(key, `must be an object of strings, such as { "TZ": "UTC" } (received ${JSON.stringify(raw)})`)
      }
    } else {
      value = pathValue(key, raw)
    }
    merged[key] = value
    fromFile.set(flag, key)
  }
  return { flags: merged, paths: mergedPaths, fromFile }
}

/** A bad value that came from the file: the flag's own message, prefixed with the file and the key. */
export function nameConfigKey(err: unknown, config: ConfigFile | null, fromFile: Map<string, string>): unknown {
  if (!config || !(err instanceof ClaimrunError) || err.code !== 'CLAIMRUN_BAD_OPTION') return err
  const flag = /^(--[a-z-]+)/.exec(err.message)?.[1]
  const key = flag ? fromFile.get(flag) : undefined
  if (!key) return err
  return new ClaimrunError('CLAIMRUN_BAD_OPTION', `${config.label}, key "${key}": ${err.message}`, { cause: err })
}

export interface RunConfig extends AppliedConfig {
  config: ConfigFile | null
}

/** `--config <file>`, `--no-config`, or the config found from `cwd` upward, merged under the command line. */
export async function configureRun(command: Command, flags: Record<string, unknown>, paths: string[], cwd = process.cwd()): Promise<RunConfig> {
  const file = flags.config === false ? null : typeof flags.config === 'string' ? resolve(cwd, flags.config) : findConfigFile(cwd)
  if (!file) return { flags, paths, fromFile: new Map(), config: null }
  const config = await loadConfigFile(file, cwd)
  return { ...applyConfig(config, command, flags, paths), config }
}
