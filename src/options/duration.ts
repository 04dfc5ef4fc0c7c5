import { ClaimrunError } from '../vocab/errors.js'
import { plural } from '../util/plural.js'

/** setTimeout's ceiling: a longer delay overflows and fires after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const SYNTAX = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$/

export interface DurationRule {
  /** 0 is a meaningful value (e.g. no grace); otherwise the duration must be above 0. */
  allowZero?: boolean
  /** The smallest positive value, in ms, and why (said when it is not met). @default 1 ms */
  minMs?: number
  minWhy?: string
  /** The largest value, in ms, with its reason. @default setTimeout's 2^31-1 ms */
  maxMs?: number
  maxWhy?: string
}

/** `1500` → `1.5s`, `7200000` → `2h`: a limit said the way a person would type it (plus days when long). */
export function describeMs(ms: number): string {
  const days = ms >= 86_400_000 ? ` (about ${plural(Math.floor(ms / 8_640_000) / 10, 'day')})` : ''
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h${days}`
  if (ms % 60_000 === 0) return `${ms / 60_000}m${days}`
  if (ms >= 60_000) return `${Math.floor(ms / 1000)}s${days}`
  if (ms >= 1000) return `${ms / 1000}s`
  return `${ms}ms`
}

function bad(flag: string, received: unknown, why: string): ClaimrunError {
  return new ClaimrunError('CLAIMRUN_BAD_OPTION', `${flag} ${why} (received ${JSON.stringify(received) ?? String(received)})`)
}

/**
 * A duration from the command line, a config file or the API, in milliseconds: a number of
 * seconds (`30`, `0.5`) or a string with a unit (`500ms`, `30s`, `2m`, `1h`; a bare `30` is
 * seconds). Checked for range, and the message names the limit: a positive value below 1 ms is an
 * error, not a silent "none", and nothing may exceed what a timer can hold.
 */
export function parseDuration(value: unknown, flag: string, rule: DurationRule = {}): number {
  let ms: number
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw bad(flag, value, 'must be a duration of 0 or more, such as 30, 30s, 500ms or 2m')
    ms = value * 1000
  } else if (typeof value === 'string') {
    const m = SYNTAX.exec(value)
    if (!m) throw bad(flag, value, 'must be a duration such as 30 (seconds), 30s, 500ms or 2m')
    ms = Number(m[1]) * (UNIT_MS[m[2] ?? 's'] as number)
  } else {
    throw bad(flag, value, 'must be a duration such as 30 (seconds), 30s, 500ms or 2m')
  }
  if (ms === 0) {
    if (rule.allowZero) return 0
    throw bad(flag, value, 'must be above 0')
  }
  const minMs = rule.minMs ?? 1
  const minWhy = rule.minWhy ?? "a timer's smallest step; use 0 only where 0 means none"
  if (ms < minMs) throw bad(flag, value, `must be at least ${describeMs(minMs)}, ${minWhy}`)
  const maxMs = rule.maxMs ?? MAX_TIMER_MS
  const maxWhy = rule.maxWhy ?? 'the longest delay a Node timer can hold'
  if (ms > maxMs) throw bad(flag, value, `must be at most ${describeMs(maxMs)}, ${maxWhy}`)
  return Math.round(ms)
}
