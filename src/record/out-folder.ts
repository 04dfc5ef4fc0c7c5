import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { ClaimrunError } from '../vocab/errors.js'
import { makeDirs } from '../util/make-dirs.js'
import { processAlive, tryLock, type LockResult } from './file-lock.js'
import { sleep } from '../util/time.js'
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
  /** Names the run's watchdog in the lock: the folder stays held until it has ended the run's processes. */
  guardBy: (pid: number, graceMs: number) => void
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

/** Makes the out folder ready for one run and holds it (holdOut, then clearOut), for callers with no wait to make. */
export function prepareOut(out: string): OutLease {
  const lease = leaseOut(out, takeLock(out))
  clearOut(out, lease)
  return lease
}

/**
 * Holds the out folder for one run, first thing (the lock is what says a run is in progress there,
 * so `claimrun show` never passes the previous run off as this one): created, refused if it holds
 * someone else's files or is in use by a live run. A dead run whose watchdog is still ending its
 * tests holds it too: this waits for that watchdog (within the grace it named), so that no test
 * runs twice at once and its note lands before this run clears the folder. Nothing is cleared yet
 * (clearOut): a run refused for bad input leaves the previous results in place.
 */
export async function holdOut(out: string, stop?: AbortSignal): Promise<OutLease> {
  let lock = takeLock(out)
  for (const deadline = guardDeadline(lock); !lock.ok && deadline !== null && Date.now() < deadline && !stop?.aborted; lock = takeLock(out)) await sleep(20)
  return leaseOut(out, lock)
}

/** When to stop waiting for a dead holder's guard (its grace, and a margin for its note), or null when there is none to wait for. */
function guardDeadline(lock: LockResult): number | null {
  if (lock.ok || processAlive(lock.holder) || !lock.holder.guard) return null
  return Date.now() + (lock.holder.guard.graceMs ?? 0) + GUARD_MARGIN_MS
}

/** What a dead run's watchdog takes beyond its kill grace: reading /proc, SIGKILL rounds, its note. */
const GUARD_MARGIN_MS = 5000

function takeLock(out: string): LockResult {
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
  try {
    return tryLock(join(out, LOCK))
  } catch (err) {
    throw notWritable(out, err)
  }
}

function leaseOut(out: string, lock: LockResult): OutLease {
  if (!lock.ok) {
    const { holder } = lock
    const who = holder.pid === process.pid
      ? `another run in this process, pid ${holder.pid}`
      : !processAlive(holder) && holder.guard ? `the watchdog (pid ${holder.guard.pid}) of run ${holder.pid}, still ending its tests` : `pid ${holder.pid}`
    throw new ClaimrunError('CLAIMRUN_OUT_IN_USE', `--out ${JSON.stringify(out)} is in use by a running claimrun (${who}); wait for it to end, or give this run its own --out`)
  }
  const { release, guardBy } = lock
  // A run that ends without reaching its release (process.exit in an embedding program) still frees it.
  process.once('exit', release)
  return {
    release: () => {
      process.off('exit', release)
      release()
    },
    guardBy,
  }
}

/** Marks the held folder as claimrun's and clears the previous run's files (never the folder). Releases it on failure. */
export function clearOut(out: string, lease: OutLease): void {
  try {
    writeFileSync(join(out, MARKER), MARKER_TEXT)
    for (const name of readdirSync(out)) if (OWNED.test(name)) rmSync(join(out, name), { force: true })
  } catch (err) {
    lease.release()
    throw notWritable(out, err)
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
