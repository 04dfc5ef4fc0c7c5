/**
 * Stable error codes. Callers switch on `code`, never on message text.
 * Every code except CLAIMRUN_INTERNAL means "bad input or configuration": nothing was run.
 */
export type ErrorCode =
  | 'CLAIMRUN_BAD_OPTION'
  | 'CLAIMRUN_PATH_NOT_FOUND'
  | 'CLAIMRUN_NO_TESTS'
  | 'CLAIMRUN_UNKNOWN_TYPE'
  | 'CLAIMRUN_OUT_NOT_WRITABLE'
  | 'CLAIMRUN_STORE'
  | 'CLAIMRUN_PLAN_MISMATCH'
  | 'CLAIMRUN_SETUP_FAILED'
  | 'CLAIMRUN_INTERNAL'

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
