import { existsSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { createRequire } from 'node:module'
import { naturalCompare } from './natural-order.js'
import { ClaimrunError } from '../vocab/errors.js'
import { noRunnerText } from './select.js'

export const DEFAULT_PATTERN_TEXT = 'test*, *.test.*, *-test.*, *_test.*, *.spec.*, *.t (with a runner, or executable)'

/** The folders test suites live in, by ecosystem, in the order `claimrun run` without paths looks for them. */
export const TEST_FOLDERS = ['test', 'tests', 't', 'spec'] as const

export interface Discovered {
  /** Absolute file paths, in order: the paths as given, each folder in natural order. */
  files: string[]
  warnings: string[]
  /** Files named like tests that were skipped for want of a runner (no --cmd, not runnable). */
  unrunnable: string[]
}


/**
 * Named like a test in some ecosystem (node --test's test*, *.test.*, *-test.*, *_test.*; pytest's
 * test_*.py and *_test.py; *.spec.*; Perl's *.t), and something runs it (`runnable`: --cmd, a
 * runner, a known kind, or the file's own #!).
 */
function defaultMatch(name: string, id: () => string, mode: () => number, runnable: Runnable): 'test' | 'no-runner' | false {
  const named = name.startsWith('test') || /[._-]test\.[^/]+$|\.spec\.[^/]+$|\.t$/.test(name)
  if (!named) return false
  return runnable(id(), mode) ? 'test' : 'no-runner'
}

/** Whether something runs a file named like a test (see plan/runners.ts hasRunner). */
export type Runnable = (id: string, mode: () => number) => boolean

/** The test folders that exist in `cwd` other than the one given, for a message that suggests them. */
export function otherTestFolders(cwd: string, given?: string): string[] {
  return TEST_FOLDERS.filter((f) => f !== given && statSync(join(cwd, f), { throwIfNoEntry: false })?.isDirectory())
}

/** A file the walk found: its path, its id (sorted by, computed once), and its real path when known. */
interface Found {
  file: string
  id: string
  real: string | undefined
}

const loadPicomatch = (): typeof import('picomatch') => createRequire(import.meta.url)('picomatch')

/** The id of a test: its path relative to the run's cwd, with `/` separators. */
export const testId = (cwd: string, file: string): string => {
  // The common case without path.relative, which resolves both paths again (twice per file of a
  // run): a file under cwd whose rest is plain names (no '.' or '..' segment, no empty one: those,
  // and dot-folders with them, go the long way), where relative() would return that rest.
  if (sep === '/' && cwd.length > 1 && file.length > cwd.length + 1 && file.charCodeAt(cwd.length) === 47 && file.startsWith(cwd)) {
    const rest = file.slice(cwd.length + 1)
    if (!rest.startsWith('.') && !rest.includes('/.') && !rest.includes('//') && !rest.endsWith('/')) return rest
  }
  return relative(cwd, file).split(sep).join('/')
}

/**
 * Turns paths into test files. Folders are walked recursively (skipping node_modules and dot
 * folders); a symlinked folder is followed once (its real path is remembered, so loops end); an
 * unreadable folder becomes a warning. A file named directly is always a test.
 */
export function discover(paths: string[], cwd: string, pattern: string | undefined, runnable: Runnable): Discovered {
  // Loaded only when a pattern is given: it is most of discovery's start-up cost otherwise.
  const matcher = pattern ? loadPicomatch()(pattern, { dot: true, basename: !pattern.includes('/') }) : null
  const files: string[] = []
  const seen = new Set<string>()
  const warnings: string[] = []
  const unrunnable: string[] = []
  // Per path given: a folder reached again inside one walk is a loop; across paths, files dedupe.
  let visitedDirs = new Set<string>()

  // `real`: the file's real path when the walk knows it (a plain file in a folder whose real path
  // it has), which saves realpathSync's lstat of every component, per file.
  const add = (file: string, known?: string): void => {
    let real: string
    try {
      real = known ?? realpathSync(file)
    } catch {
      return
    }
    if (!seen.has(real)) {
      seen.add(real)
      files.push(file)
    }
  }

  const walk = (dir: string, root: string, found: Found[]): void => {
    let real: string
    try {
      real = realpathSync(dir)
    } catch {
      return
    }
    if (visitedDirs.has(real)) return
    visitedDirs.add(real)
    let entries: Dirent[]
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch (err) {
      warnings.push(`cannot read folder ${testId(cwd, dir) || '.'} (${(err as NodeJS.ErrnoException).code ?? 'error'}): skipped`)
      return
    }
    const subdirs: string[] = []
    for (const entry of entries) {
      const full = join(dir, entry.name)
      const link = entry.isSymbolicLink()
      let isDir = entry.isDirectory()
      let isFile = entry.isFile()
      // A file's mode is looked up only where it decides (see defaultMatch): a stat per file was
      // most of discovery's cost on a folder of hundreds of tests.
      let mode = (): number => statSync(full).mode
      if (link) {
        try {
          const st = statSync(full)
          isDir = st.isDirectory()
          isFile = st.isFile()
          mode = () => st.mode
        } catch {
          continue // broken link
        }
      }
      if (isDir) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) subdirs.push(full)
      } else if (isFile) {
        let ok: 'test' | 'no-runner' | false
        try {
          ok = matcher ? matcher(relative(root, full).split(sep).join('/')) && 'test' : defaultMatch(entry.name, () => testId(cwd, full), mode, runnable)
        } catch {
          continue // gone meanwhile
        }
        if (ok === 'test') found.push({ file: full, id: testId(cwd, full), real: link ? undefined : join(real, entry.name) })
        else if (ok === 'no-runner') unrunnable.push(full)
      }
    }
    for (const d of subdirs) walk(d, root, found)
  }

  for (const p of paths) {
    const abs = resolve(cwd, p)
    if (!existsSync(abs)) {
      throw new ClaimrunError('CLAIMRUN_PATH_NOT_FOUND', `path not found: ${JSON.stringify(p)}; check the spelling, or run claimrun from the folder it is relative to`)
    }
    if (!statSync(abs).isDirectory()) {
      add(abs)
      continue
    }
    const found: Found[] = []
    visitedDirs = new Set<string>()
    walk(abs, abs, found)
    found.sort((a, b) => naturalCompare(a.id, b.id))
    for (const f of found) add(f.file, f.real)
    if (found.length === 0) {
      const skipped = unrunnable.filter((f) => f.startsWith(abs + sep))
      if (skipped.length) throw new ClaimrunError('CLAIMRUN_NO_TESTS', `no tests in ${JSON.stringify(p)}: ${noRunnerText(skipped.map((f) => testId(cwd, f)))}`)
      const used = pattern ? `--pattern ${JSON.stringify(pattern)}` : `the default pattern ${DEFAULT_PATTERN_TEXT}`
      const others = otherTestFolders(cwd, testId(cwd, abs))
      const elsewhere = others.length ? `; tests may be in ${others.map((f) => `${f}/`).join(' or ')}: claimrun run ${others.join(' ')}` : ''
      throw new ClaimrunError('CLAIMRUN_NO_TESTS', `no tests in ${JSON.stringify(p)} with ${used}${elsewhere}; or pass --pattern "<glob>" to pick files`)
    }
  }
  return { files, warnings, unrunnable }
}
