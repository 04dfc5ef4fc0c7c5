/**
 * Stable error codes. Callers switch on `code`, never on message text.
 * Every code except CLAIMRUN_INTERNAL, CLAIMRUN_SETUP_FAILED and CLAIMRUN_STORE_LOST/UNREACHABLE
 * means "bad input or configuration": nothing was run. Those four come after a run (or its failed
 * setup), with its RunResult as `cause`.
 */
export type ErrorCode =
  | 'CLAIMRUN_BAD_OPTION'
  | 'CLAIMRUN_PATH_NOT_FOUND'
  | 'CLAIMRUN_NO_TESTS'
  | 'CLAIMRUN_UNKNOWN_TYPE'
  | 'CLAIMRUN_OUT_NOT_WRITABLE'
  | 'CLAIMRUN_OUT_IN_USE'
  | 'CLAIMRUN_OUT_NOT_OURS'
  | 'CLAIMRUN_STORE'
  | 'CLAIMRUN_PLAN_MISMATCH'
  | 'CLAIMRUN_SETUP_FAILED'
  /** The system refused the run's worker threads (EAGAIN: a limit on processes and threads). */
  | 'CLAIMRUN_THREAD_LIMIT'
  | 'CLAIMRUN_INTERNAL'
  /** A shared run's store lost the run's state (restart without persistence, expiry, eviction). */
  | 'CLAIMRUN_STORE_LOST'
  /** A shared run's store did not answer for longer than the reconnect window (half the lease). */
  | 'CLAIMRUN_STORE_UNREACHABLE'

export class ClaimrunError extends Error {
  override name = 'ClaimrunError'
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** A RangeError/TypeError-style complaint about one option, naming it and the value received. */
export function badOption(option: string, received: unknown, expected: string): ClaimrunError {
  return new ClaimrunError(
    'CLAIMRUN_BAD_OPTION',
    `${option} must be ${expected} (received ${JSON.stringify(received) ?? String(received)})`,
  )
}
