import { join } from 'node:path'
import { ClaimrunError } from '../vocab/errors.js'
import type { StoreFault } from '../claim/claim-source.js'
import type { RunResult } from '../vocab/types.js'
import { plural } from '../util/plural.js'

/**
 * The one line a shared run ends with when its store failed it: the store lost the run (restarted
 * without persistence, keys expired or evicted) or stayed out of reach past the reconnect window.
 * Exit 2, never a green: results.json lists every test, each one without an outcome from this
 * process as `error` with the reason. The result rides along as the error's cause.
 */
export function storeFaultError(fault: StoreFault, result: RunResult): ClaimrunError {
  const errors = result.tests.filter((t) => t.status === 'error').length
  const code = fault.kind === 'lost' ? 'CLAIMRUN_STORE_LOST' : 'CLAIMRUN_STORE_UNREACHABLE'
  const where = join(result.out, 'results.json')
  return new ClaimrunError(code, `${fault.reason}; stopped, ${errors} of ${plural(result.tests.length, 'test')} marked error in ${where}`, { cause: result })
}
