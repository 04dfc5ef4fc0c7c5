import { createRequire } from 'node:module'
import { relative, resolve, sep } from 'node:path'
import { ClaimrunError } from '../vocab/errors.js'
import { GROUP_NAME, readHeaders, type HeaderNeeds } from './needs-header.js'

/** Where a group's max holds: on each machine of a shared run (the default), or over the whole run (through the store). */
export type GroupScope = 'machine' | 'run'

/** What the config file (or run()'s options) declares: lock groups, weights and serial tests, by glob. */
export interface DeclaredNeeds {
  groups: Record<string, { tests: string[]; max: number; scope: GroupScope }>
  weights: Record<string, number>
  serial: string[]
  /** The folder the globs are relative to: the config file's, or the run's cwd. */
  base: string
}

/** What one test needs while it runs, and where each need was declared (for --list). */
export interface TestNeeds {
  /** Group names, sorted (a fixed order for the claim and for every report). */
  groups: string[]
  /** Slots of capacity it uses: 1, its weight, or every worker for a serial test. */
  weight: number
  serial: boolean
  /** Where each need came from, in words: `group db (config)`, `weight=2 (line 3)`. */
  from: string[]
}

/** The needs of a whole run; null when nothing is declared (the claim then stays unconstrained). */
export interface RunNeeds {
  /** Per test, in plan order. */
  tests: TestNeeds[]
  /** Every group's name and max, in a fixed order (index = the group's counter). */
  groups: Array<{ name: string; max: number; scope: GroupScope }>
  capacity: number
}

const bad = (what: string): ClaimrunError => new ClaimrunError('CLAIMRUN_BAD_OPTION', what)
const show = (v: unknown): string => JSON.stringify(v) ?? String(v)

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function globList(value: unknown, where: string): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || list.some((g) => typeof g !== 'string' || g === '')) {
    throw bad(`${where} must be a glob or a list of globs on test paths, such as ["test/db/**"] (received ${show(value)})`)
  }
  return list as string[]
}

function checkWeight(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw bad(`${where} must be a whole number of 1 or more (received ${show(value)})`)
  return value
}

/** Validates the declarations' shape once, at the public entry (run() and the CLI). */
export function parseDeclaredNeeds(options: { groups?: unknown; weights?: unknown; serial?: unknown }, base: string): DeclaredNeeds {
  const declared: DeclaredNeeds = { groups: {}, weights: {}, serial: [], base }
  if (options.groups !== undefined) {
    if (!isObject(options.groups)) throw bad(`groups must be an object of named groups, such as { "db": { "tests": ["test/db/**"], "max": 1 } } (received ${show(options.groups)})`)
    for (const [name, group] of Object.entries(options.groups)) {
      if (!GROUP_NAME.test(name)) throw bad(`group name ${show(name)} must be 1-64 letters, digits, '.', ':', '_' or '-'`)
      if (!isObject(group)) throw bad(`groups "${name}" must be an object such as { "tests": ["test/db/**"], "max": 1 } (received ${show(group)})`)
      for (const key of Object.keys(group)) if (key !== 'tests' && key !== 'max' && key !== 'scope') throw bad(`groups "${name}": unknown key "${key}" (the keys are "tests", "max" and "scope")`)
      const scope = group.scope ?? 'machine'
      if (scope !== 'machine' && scope !== 'run') throw bad(`groups "${name}": scope must be "machine" (each machine of a shared run on its own) or "run" (the whole shared run) (received ${show(group.scope)})`)
      const max = group.max === undefined ? 1 : group.max
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) throw bad(`groups "${name}": max must be a whole number of 1 or more (received ${show(group.max)})`)
      declared.groups[name] = { tests: group.tests === undefined ? [] : globList(group.tests, `groups "${name}": tests`), max, scope }
    }
  }
  if (options.weights !== undefined) {
    if (!isObject(options.weights)) throw bad(`weights must be an object of glob to weight, such as { "test/build/**": 2 } (received ${show(options.weights)})`)
    for (const [glob, weight] of Object.entries(options.weights)) {
      if (glob === '') throw bad('weights: a glob must not be empty')
      declared.weights[glob] = checkWeight(weight, `weights "${glob}"`)
    }
  }
  if (options.serial !== undefined) declared.serial = globList(options.serial, 'serial')
  return declared
}

export const declaresNothing = (d: DeclaredNeeds): boolean =>
  Object.keys(d.groups).length === 0 && Object.keys(d.weights).length === 0 && d.serial.length === 0

const loadPicomatch = (): typeof import('picomatch') => createRequire(import.meta.url)('picomatch')
const toPosix = (p: string): string => (sep === '/' ? p : p.split(sep).join('/'))

/** A glob "looks where the run looked" when its fixed folder and one of the run's paths contain each other. */
function globInRunPaths(picomatch: typeof import('picomatch'), glob: string, base: string, paths: string[]): boolean {
  const fixed = resolve(base, picomatch.scan(glob).base)
  const within = (inner: string, outer: string): boolean => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep)
  return paths.some((p) => within(fixed, p) || within(p, fixed))
}

interface GlobRule {
  glob: string
  matches: (path: string) => boolean
  matched: boolean
}

/**
 * Every test's needs: the config's globs (relative to `declared.base`) and each file's header.
 * A glob that matches none of the files the run discovered where it looked, a group with no test,
 * a weight above the workers: a usage error, before anything runs. Null when nothing is declared.
 */
export function resolveNeeds(
  tests: Array<{ id: string; file: string }>,
  discovered: string[],
  declared: DeclaredNeeds,
  run: { workers: number; paths: string[]; cwd: string },
): RunNeeds | null {
  const headers = readHeaders(tests)
  if (declaresNothing(declared) && headers.every((h) => h === null)) return null
  const picomatch = loadPicomatch()
  const rule = (glob: string): GlobRule => ({ glob, matches: picomatch(glob, { dot: true }), matched: false })
  const groupRules = Object.entries(declared.groups).map(([name, g]) => ({ name, rules: g.tests.map(rule) }))
  const weightRules = Object.entries(declared.weights).map(([glob, weight]) => ({ weight, rule: rule(glob) }))
  const serialRules = declared.serial.map(rule)
  const all = [...groupRules.flatMap((g) => g.rules), ...weightRules.map((w) => w.rule), ...serialRules]
  for (const file of discovered) {
    const path = toPosix(relative(declared.base, file))
    for (const r of all) if (!r.matched && r.matches(path)) r.matched = true
  }
  const runPaths = run.paths.map((p) => resolve(run.cwd, p))
  for (const r of all) {
    if (!r.matched && globInRunPaths(picomatch, r.glob, declared.base, runPaths)) {
      throw bad(`the glob ${show(r.glob)} matches no test file (globs are relative to ${declared.base}); fix or remove it, and check the ids claimrun run --list prints`)
    }
  }
  const max = new Map(Object.entries(declared.groups).map(([name, g]) => [name, g.max]))
  const needs = tests.map((t, i) => testNeeds(t, headers[i] ?? null, declared.base, { groupRules, weightRules, serialRules }, run.workers, max))
  // A group named only in headers is per machine: run-wide ones are declared in the config.
  const groups = [...max.entries()].map(([name, m]) => ({ name, max: m, scope: declared.groups[name]?.scope ?? 'machine' })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { tests: needs, groups, capacity: run.workers }
}

function testNeeds(
  t: { id: string; file: string },
  header: HeaderNeeds | null,
  base: string,
  rules: { groupRules: Array<{ name: string; rules: GlobRule[] }>; weightRules: Array<{ weight: number; rule: GlobRule }>; serialRules: GlobRule[] },
  workers: number,
  max: Map<string, number>,
): TestNeeds {
  const path = toPosix(relative(base, t.file))
  const groups = new Set<string>()
  const from: string[] = []
  let weight = 1
  let serial = false
  for (const g of rules.groupRules) {
    if (g.rules.some((r) => r.matches(path))) {
      groups.add(g.name)
      from.push(`group ${g.name} (config)`)
    }
  }
  for (const w of rules.weightRules) {
    if (w.rule.matches(path) && w.weight > weight) {
      weight = w.weight
      from.push(`weight=${w.weight} (config)`)
    }
  }
  if (rules.serialRules.some((r) => r.matches(path))) {
    serial = true
    from.push('serial (config)')
  }
  if (header) {
    for (const name of header.groups) {
      if (!groups.has(name)) from.push(`group ${name} (line ${header.line})`)
      groups.add(name)
      // A group named only in files holds one test at a time.
      if (!max.has(name)) max.set(name, 1)
    }
    if (header.weight !== undefined && header.weight > weight) {
      weight = header.weight
      from.push(`weight=${header.weight} (line ${header.line})`)
    }
    if (header.serial && !serial) {
      serial = true
      from.push(`serial (line ${header.line})`)
    }
  }
  if (weight > workers) {
    throw bad(`${t.id}: weight ${weight} is more than the ${workers} workers, so it could never run; lower it, or run with --workers ${weight}`)
  }
  return { groups: [...groups].sort(), weight: serial ? workers : weight, serial, from }
}
