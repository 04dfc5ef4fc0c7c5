import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Command } from 'commander'
import { ClaimrunError } from '../errors.js'
import { displayPath } from '../reporters/format.js'
import { importModule } from '../util/import-module.js'

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

const configError = (label: string, what: string): ClaimrunError => new ClaimrunError('CLAIMRUN_BAD_OPTION', `${label}: ${what}`)

function hasClaimrunKey(file: string): boolean {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown
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
    const found = CONFIG_NAMES.map((name) => join(dir, name)).filter((f) => existsSync(f) && (basename(f) !== 'package.json' || hasClaimrunKey(f)))
    if (found.length > 1) {
      throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `two claimrun configs in ${displayPath(dir, cwd)}: ${found.map((f) => describeFile(f, cwd)).join(' and ')}; keep one`)
    }
    if (found.length === 1) return found[0] as string
    if (existsSync(join(dir, '.git')) || dirname(dir) === dir) return null
  }
}

const describeFile = (file: string, cwd: string): string =>
  basename(file) === 'package.json' ? `${displayPath(file, cwd)} ("claimrun" key)` : displayPath(file, cwd)

/** Reads a config file: JSON, an ES module or CommonJS file whose default export is the object, or package.json's "claimrun" key. */
export async function loadConfigFile(file: string, cwd: string): Promise<ConfigFile> {
  const label = describeFile(file, cwd)
  if (!existsSync(file)) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--config ${JSON.stringify(displayPath(file, cwd))}: no such file`)
  let values: unknown
  if (/\.json$/i.test(file)) {
    try {
      values = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      throw configError(label, `not valid JSON (${(err as Error).message}); fix it, or pass --no-config`)
    }
    if (basename(file) === 'package.json') values = (values as Record<string, unknown> | null)?.claimrun
  } else if (/\.[cm]?js$/i.test(file)) {
    try {
      const mod = await importModule<{ default?: unknown }>(pathToFileURL(file).href)
      values = mod.default
    } catch (err) {
      throw configError(label, `could not be loaded (${(err as Error)?.message ?? err}); fix it, or pass --no-config`)
    }
  } else {
    throw configError(label, 'is not a config file claimrun reads: use a .json, .mjs or .js file (or the "claimrun" key of package.json)')
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw configError(label, `must hold an object of run options, such as { "workers": 4, "timeout": "30s" } (received ${JSON.stringify(values) ?? typeof values})`)
  }
  return { file, label, values: values as Record<string, unknown> }
}

/** The closest known key, for "did you mean": at most two edits away. */
function closest(key: string, known: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i)
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0] as number
      row[0] = i
      for (let j = 1; j <= b.length; j++) {
        const next = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1))
        prev = row[j] as number
        row[j] = next
      }
    }
    return row[b.length] as number
  }
  const best = known.map((k) => [k, distance(key, k)] as const).sort((a, b) => a[1] - b[1])[0]
  return best && best[1] <= 2 ? best[0] : undefined
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
  const known = [...new Set(options.map((o) => o.attributeName())), 'paths', ...CONFIG_ONLY]
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
