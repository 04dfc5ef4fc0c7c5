import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ClaimrunError } from '../vocab/errors.js'
import { resultsShapeProblem } from './results-shape.js'
import { holderAlive, readLock } from './file-lock.js'
import { LOCK } from './out-folder.js'
import { countStatuses, exitCodeOf } from './outcome.js'
import type { RunResult } from '../vocab/types.js'

/** The first line of the note a run's watchdog leaves when the runner died mid-run (see watchdog/watchdog-process.ts). */
function runnerDied(out: string): string | null {
  try {
    return readFileSync(join(out, 'runner-died.txt'), 'utf8').split('\n')[0]?.replace(/, so results\.json.*$/, '') ?? null
  } catch {
    return null
  }
}

/**
 * A run holds its out folder's lock from its first moment to its last file (see out-folder.ts): a
 * lock there means the folder's files are not that run's results (yet, or ever, if it died
 * before its watchdog started and so left no note). Null when no run holds it or left it.
 */
function unfinishedRun(out: string): string | null {
  const holder = readLock(join(out, LOCK))
  if (!holder || holder.pid === process.pid) return null
  if (holderAlive(holder)) return `a run is in progress in ${out} (pid ${holder.pid}): its results are not written yet; wait for it to end`
  if (runnerDied(out)) return null
  return `the last run in ${out} (pid ${holder.pid}) ended before it finished (killed as it started?), so the files there are not its results; run it again`
}

/** Reads a finished run back from its out folder (results.json), as `claimrun show` needs it. */
export function readRun(out: string): RunResult {
  const file = join(out, 'results.json')
  const folder = statSync(out, { throwIfNoEntry: false })
  if (folder && !folder.isDirectory()) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${out} is not a results folder (it is a file); name the out folder of a claimrun run`)
  const unfinished = unfinishedRun(out)
  if (unfinished) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', unfinished)
  // A FIFO or a device in its place would be read forever.
  const st = statSync(file, { throwIfNoEntry: false })
  if (st && !st.isFile()) throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${file} is not a regular file; name the out folder of a claimrun run, or run it again`)
  let data: Omit<RunResult, 'out' | 'exitCode'> & { exitCode?: number }
  try {
    data = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not valid JSON'
    const died = runnerDied(out)
    if (died && why === 'not found') throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${file}: not found: ${died} (see ${join(out, 'runner-died.txt')})`, { cause: err })
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${file}: ${why}; run claimrun run first, or name the run's out folder`, { cause: err })
  }
  const problem = resultsShapeProblem(data)
  if (problem) {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${file} is not a claimrun results file (${problem}); name the out folder of a claimrun run, or run it again`)
  }
  // Files from before exitCode was recorded: derive it as the run would have. Counts are derived
  // data, so they are recounted rather than trusted.
  const exitCode = data.exitCode ?? exitCodeOf(data.tests, data.interrupted)
  return { ...data, order: data.order ?? { mode: 'given' }, counts: countStatuses(data.tests), exitCode, out }
}
