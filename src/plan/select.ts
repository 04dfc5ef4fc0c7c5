import { createRequire } from 'node:module'
import { extname } from 'node:path'
import { badOption, ClaimrunError } from '../errors.js'

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
 * `--grep` keeps the tests whose id matches any grep; `--exclude` then drops those whose id matches
 * any glob (a glob without `/` is matched against the file name, as `--pattern` is). Order is kept.
 * Nothing left is a usage error: a run of zero tests is never a green.
 */
export function selectTests<T extends { id: string }>(tests: T[], selection: Selection): T[] {
  const { grep, exclude } = selection
  if (grep.length === 0 && exclude.length === 0) return tests
  const picomatch = exclude.length ? loadPicomatch() : null
  const excluded = exclude.map((g) => (picomatch as NonNullable<typeof picomatch>)(g, { dot: true, basename: !g.includes('/') }))
  const kept = tests.filter((t) => {
    if (grep.length && !grep.some((g) => (typeof g === 'string' ? t.id.includes(g) : g.test(t.id)))) return false
    return !excluded.some((isExcluded) => isExcluded(t.id))
  })
  if (kept.length === 0) {
    const used = [...grep.map((g) => `--grep ${String(g)}`), ...exclude.map((g) => `--exclude ${g}`)].join(' ')
    throw new ClaimrunError('CLAIMRUN_NO_TESTS', `no tests left after ${used} (${tests.length} found); check them against the ids claimrun run --list prints`)
  }
  return kept
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
