import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ClaimrunError } from '../errors.js'
import { exitCodeOf } from './outcome.js'
import type { RunResult } from '../types.js'

/** Reads a finished run back from its out folder (results.json), as `claimrun show` needs it. */
export function readRun(out: string): RunResult {
  const file = join(out, 'results.json')
  let data: Omit<RunResult, 'out' | 'exitCode'> & { exitCode?: number }
  try {
    data = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not valid JSON'
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${file}: ${why}; run claimrun run first, or name the run's out folder`, { cause: err })
  }
  if (data?.version !== 1 || !Array.isArray(data.tests)) {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${file} is not a claimrun results file (version 1); name the run's out folder`)
  }
  // Files from before exitCode was recorded: derive it as the run would have.
  const exitCode = data.exitCode ?? exitCodeOf(data.tests, data.interrupted)
  return { ...data, exitCode, out }
}
