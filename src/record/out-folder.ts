import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { ClaimrunError } from '../errors.js'
import { makeDirs } from '../util/make-dirs.js'
import { tryLock } from './file-lock.js'
import { resultsShapeProblem } from './results-shape.js'

/** Marks a folder as claimrun's own out folder: only such folders (or empty ones) are reused. */
export const MARKER = '.claimrun-out'
/** Held while a run uses the folder: its pid and start time (see file-lock.ts). */
export const LOCK = '.claimrun-lock'
const MARKER_TEXT = 'This folder is written by claimrun (https://www.npmjs.com/package/claimrun); each run replaces its files.\n'

/** Files a run writes into its out folder; only these are cleared before a run (never the folder). */
const OWNED = /^(worker\d+\.log|summary\.txt|results\.json|report\.html|junit\.xml|runner-died\.txt|(setup|teardown)\.log|(?!\.claimrun-lock).*\.claimrun-tmp)$/

export interface OutLease {
  /** Lets the next run have the folder. Safe to call twice, and after the folder was deleted. */
  release: () => void
}

function notWritable(out: string, err: unknown): ClaimrunError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err)
  const why = code === 'ENOTDIR' ? 'ENOTDIR: a file is in the way' : code
  return new ClaimrunError('CLAIMRUN_OUT_NOT_WRITABLE', `cannot write to --out ${JSON.stringify(out)} (${why}); choose a writable folder with --out <dir>`, { cause: err })
}

/** An out folder from before the marker existed: nothing in it but what claimrun writes. */
function isUnmarkedClaimrunFolder(out: string, names: string[]): boolean {
  if (!names.every((n) => OWNED.test(n))) return false
  if (!names.includes('results.json')) return true
  try {
    return resultsShapeProblem(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))) === null
  } catch {
    return false
  }
}

/**
 * Makes the out folder ready for one run and holds it: created (marked as claimrun's), refused if
 * it holds someone else's files or is in use by a live run, then cleared of the previous run's
 * files. The caller releases it when the run's files are written.
 */
export function prepareOut(out: string): OutLease {
  let names: string[]
  try {
    makeDirs(out)
    names = readdirSync(out).filter((n) => n !== LOCK)
  } catch (err) {
    throw notWritable(out, err)
  }
  if (names.length > 0 && !names.includes(MARKER) && !isUnmarkedClaimrunFolder(out, names)) {
    const shown = names.slice(0, 3).map((n) => JSON.stringify(n)).join(', ') + (names.length > 3 ? ', ...' : '')
    throw new ClaimrunError('CLAIMRUN_OUT_NOT_OURS', `--out ${JSON.stringify(out)} holds files claimrun did not write (${shown}); claimrun only writes into an empty folder or one it made (marked by ${MARKER}): choose another --out`)
  }
  let lock
  try {
    lock = tryLock(join(out, LOCK))
  } catch (err) {
    throw notWritable(out, err)
  }
  if (!lock.ok) {
    const who = lock.holder.pid === process.pid ? `another run in this process, pid ${lock.holder.pid}` : `pid ${lock.holder.pid}`
    throw new ClaimrunError('CLAIMRUN_OUT_IN_USE', `--out ${JSON.stringify(out)} is in use by a running claimrun (${who}); wait for it to end, or give this run its own --out`)
  }
  const release = lock.release
  try {
    writeFileSync(join(out, MARKER), MARKER_TEXT)
    for (const name of names) if (OWNED.test(name)) rmSync(join(out, name), { force: true })
  } catch (err) {
    release()
    throw notWritable(out, err)
  }
  // A run that ends without reaching its release (process.exit in an embedding program) still frees it.
  process.once('exit', release)
  return {
    release: () => {
      process.off('exit', release)
      release()
    },
  }
}

/** Before the files are written: the out folder exists again even if a test deleted it (and is marked). */
export function ensureOut(out: string): void {
  makeDirs(out)
  writeFileSync(join(out, MARKER), MARKER_TEXT)
}

/**
 * Checks, before any test runs, that each file the run will write can be written: not a folder,
 * its folder creatable, a file creatable there (and removed again). One line names the flag.
 */
export function probeOutputs(targets: Array<[flag: string, path: string | null]>): void {
  for (const [flag, path] of targets) {
    if (!path) continue
    let st
    try {
      st = statSync(path, { throwIfNoEntry: false })
    } catch {
      st = undefined // ENOTDIR and the like: the write probe below says it
    }
    if (st?.isDirectory()) {
      const example = join(path, flag === '--junit' ? 'junit.xml' : flag === '--html' ? 'report.html' : flag === '--history' ? 'history.json' : 'results.json')
      throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${flag} ${JSON.stringify(path)} is a folder; name a file, such as ${JSON.stringify(example)}`)
    }
    const probe = join(dirname(path), `.${basename(path)}.${process.pid}.claimrun-tmp`)
    try {
      makeDirs(dirname(path))
      writeFileSync(probe, '')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err)
      throw new ClaimrunError('CLAIMRUN_OUT_NOT_WRITABLE', `cannot write ${flag} ${JSON.stringify(path)} (${code === 'ENOTDIR' ? 'ENOTDIR: a file is in the way' : code}); choose a path in a writable folder`, { cause: err })
    } finally {
      try {
        rmSync(probe, { force: true })
      } catch {
        // Never created (its folder is not a folder).
      }
    }
  }
}
