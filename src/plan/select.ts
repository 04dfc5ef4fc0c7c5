import { createRequire } from 'node:module'
import { extname } from 'node:path'
import { badOption, ClaimrunError } from '../vocab/errors.js'
import { plural } from '../util/plural.js'

/** One `--grep`: plain text is a substring of the test id; `/source/flags` is a regular expression. */
export type Grep = string | RegExp

export interface Selection {
  grep: Grep[]
  exclude: string[]
}

const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

/** Validates `--grep` values: text, or `/regex/flags` (a regex that does not compile is a usage error). */
export function parseGreps(value: unknown): Grep[] {
  return list(value).map((g) => {
    if (typeof g !== 'string' || g === '') throw badOption('--grep', g, 'text to find in test ids, or /regex/')
    const m = /^\/(.+)\/([a-z]*)$/s.exec(g)
    if (!m) return g
    try {
      // g and y would make test() remember where it stopped, and skip ids.
      return new RegExp(m[1] as string, (m[2] as string).replace(/[gy]/g, ''))
    } catch (err) {
      throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--grep ${JSON.stringify(g)} is not a valid regular expression (${(err as Error).message}); escape it, or drop the slashes to match plain text`)
    }
  })
}

export function parseExcludes(value: unknown): string[] {
  return list(value).map((g) => {
    if (typeof g !== 'string' || g === '') throw badOption('--exclude', g, 'a glob on test ids, such as "test/slow/**"')
    return g
  })
}

const loadPicomatch = (): typeof import('picomatch') => createRequire(import.meta.url)('picomatch')

/**
 * One `--exclude` glob as a test of ids, read as .gitignore reads a line: it leaves out a test when
 * it matches the id or any folder above it, so a folder (`tests`, `tests/`, `./tests`) means
 * everything under it. A glob without `/` (a trailing one aside) matches a name at any depth; one
 * with `/` or `./` matches from the run's folder; a trailing `/` matches folders only.
 */
function excluder(picomatch: typeof import('picomatch'), glob: string): (id: string) => boolean {
  const foldersOnly = glob.endsWith('/')
  const bare = glob.replace(/^(\.\/)+/, '').replace(/\/+$/, '')
  const anchored = bare !== glob.replace(/\/+$/, '') || bare.includes('/')
  const isMatch = picomatch(bare, { dot: true })
  return (id) => {
    const parts = id.split('/')
    const last = foldersOnly ? parts.length - 1 : parts.length
    for (let i = 0; i < last; i++) {
      if (isMatch(anchored ? parts.slice(0, i + 1).join('/') : (parts[i] as string))) return true
    }
    return false
  }
}

/**
 * `--grep` keeps the tests whose id matches any grep; `--exclude` then drops those whose id (or a
 * folder above it) matches any glob. Order is kept. A filter that matches none of the tests found
 * is named in a warning (it did nothing, which is seldom what was meant); nothing left at all is a
 * usage error: a run of zero tests is never a green.
 */
export function selectTests<T extends { id: string }>(tests: T[], selection: Selection): { tests: T[]; warnings: string[] } {
  const { grep, exclude } = selection
  if (grep.length === 0 && exclude.length === 0) return { tests, warnings: [] }
  const picomatch = exclude.length ? loadPicomatch() : null
  const excluded = exclude.map((g) => excluder(picomatch as NonNullable<typeof picomatch>, g))
  const greps = grep.map((g): ((id: string) => boolean) => (typeof g === 'string' ? (id) => id.includes(g) : (id) => g.test(id)))
  // Which filters matched at least one test found.
  const hit = { grep: new Set<number>(), exclude: new Set<number>() }
  const kept = tests.filter((t) => {
    let wanted = greps.length === 0
    greps.forEach((matches, i) => {
      if (matches(t.id)) {
        hit.grep.add(i)
        wanted = true
      }
    })
    let dropped = false
    excluded.forEach((matches, i) => {
      if (matches(t.id)) {
        hit.exclude.add(i)
        dropped = true
      }
    })
    return wanted && !dropped
  })
  if (kept.length === 0) {
    const used = [...grep.map((g) => `--grep ${String(g)}`), ...exclude.map((g) => `--exclude ${g}`)].join(' ')
    throw new ClaimrunError('CLAIMRUN_NO_TESTS', `no tests left after ${used} (${tests.length} found); check them against the ids claimrun run --list prints`)
  }
  const example = tests[0] ? `, ids such as ${JSON.stringify(tests[0].id)}` : ''
  const unmatched = (flag: string, value: string, what: string): string =>
    `${flag} ${JSON.stringify(value)} matched none of the ${plural(tests.length, 'test')} found${example}, so it ${what}; claimrun run --list prints every id`
  const warnings = [
    ...grep.filter((_, i) => !hit.grep.has(i)).map((g) => unmatched('--grep', String(g), 'kept nothing')),
    ...exclude.filter((_, i) => !hit.exclude.has(i)).map((g) => unmatched('--exclude', g, 'left nothing out')),
  ]
  return { tests: kept, warnings }
}

/** How many files looked like tests but had no runner, and the first few of them. */
export function noRunnerText(ids: string[]): string {
  const shown = ids.slice(0, 3).map((id) => JSON.stringify(id)).join(', ')
  const more = ids.length > 3 ? `, and ${ids.length - 3} more` : ''
  const one = ids.length === 1
  const ext = extname(ids[0] ?? '') || '.ext'
  return `${ids.length} ${one ? 'file named like a test' : 'files named like tests'} but with no runner ${one ? 'was' : 'were'} skipped (${shown}${more}): add a runner for them, such as --runner '*${ext}=<interpreter> {file}', or make them executable`
}

/**
 * One line for files skipped for want of a runner, and, with --cmd, one line when the command is
 * about to run files of several kinds (a `ruby {file}` meeting `test_b.py`): --pattern picks one.
 */
export function discoveryWarnings(unrunnable: string[], tests: Array<{ id: string }>, opts: { cmd: string[] | null; pattern: string | undefined }): string[] {
  const warnings = unrunnable.length ? [noRunnerText(unrunnable)] : []
  if (opts.cmd && opts.pattern === undefined) {
    const kinds = new Map<string, number>()
    for (const t of tests) kinds.set(extname(t.id) || '(none)', (kinds.get(extname(t.id) || '(none)') ?? 0) + 1)
    if (kinds.size > 1) {
      const counts = [...kinds].map(([ext, n]) => `${n} ${ext}`).join(', ')
      warnings.push(`--cmd ${JSON.stringify(opts.cmd.join(' '))} runs every test, and they are of ${kinds.size} kinds (${counts}); pass --pattern "<glob>", such as "*.rb", to pick one kind`)
    }
  }
  return warnings
}
