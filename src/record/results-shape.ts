import { STATUSES } from './outcome.js'
import type { Status } from '../vocab/types.js'

type Check = (v: unknown) => boolean
const str: Check = (v) => typeof v === 'string'
const num: Check = (v) => typeof v === 'number' && Number.isFinite(v)
const orNull = (c: Check): Check => (v) => v === null || c(v)
const optional = (c: Check): Check => (v) => v === undefined || c(v)
const strings: Check = (v) => Array.isArray(v) && v.every(str)
const status: Check = (v) => STATUSES.includes(v as Status)
const order: Check = (v) => typeof v === 'object' && v !== null && ['smart', 'given', 'random'].includes((v as Record<string, unknown>).mode as string)
const log: Check = (v) => typeof v === 'object' && v !== null && str((v as Record<string, unknown>).path) && num((v as Record<string, unknown>).offset) && num((v as Record<string, unknown>).length)

/** Every field the summary and the HTML report read from a test, with what it must be. */
const TEST_FIELDS: Array<[string, Check, string]> = [
  ['id', str, 'a string'],
  ['status', status, `one of ${STATUSES.join(', ')}`],
  ['worker', orNull(str), 'a string or null'],
  ['exitCode', orNull(num), 'a number or null'],
  ['signal', orNull(str), 'a string or null'],
  ['startMs', orNull(num), 'a number or null'],
  ['endMs', orNull(num), 'a number or null'],
  ['durationMs', orNull(num), 'a number or null'],
  ['attempts', num, 'a number'],
  ['tail', optional(str), 'a string'],
  ['error', optional(str), 'a string'],
  ['notes', optional(strings), 'a list of strings'],
  ['leaked', optional(num), 'a number'],
  ['log', optional(log), '{ path, offset, length }'],
]

const TOP_FIELDS: Array<[string, Check, string]> = [
  ['startedAt', str, 'a date string'],
  ['finishedAt', optional(str), 'a date string'],
  ['claimrunVersion', optional(str), 'a version string'],
  ['nodeVersion', optional(str), 'a version string'],
  ['durationMs', num, 'a number'],
  ['workers', strings, 'a list of worker names'],
  ['tests', Array.isArray, 'a list of tests'],
  ['order', optional(order), '{ mode: smart|given|random }'],
  ['interrupted', optional(str), 'a string'],
  ['warnings', optional(strings), 'a list of strings'],
  ['internalErrors', optional(strings), 'a list of strings'],
  ['exitCode', optional(num), 'a number'],
]

/**
 * Why a parsed results.json cannot be shown ("tests[3].status is 7, not one of …"), or null when
 * it has the shape every renderer relies on. Checked field by field so that a hand-edited or
 * foreign file is one clear line rather than a TypeError deep inside a renderer.
 */
export function resultsShapeProblem(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'it is not a JSON object'
  const d = data as Record<string, unknown>
  if (d.version !== 1) return `its version is ${JSON.stringify(d.version) ?? 'missing'}, not 1`
  for (const [key, check, what] of TOP_FIELDS) if (!check(d[key])) return `${key} is ${describe(d[key])}, not ${what}`
  const tests = d.tests as unknown[]
  for (let i = 0; i < tests.length; i++) {
    const t = tests[i]
    if (typeof t !== 'object' || t === null) return `tests[${i}] is ${describe(t)}, not a test`
    for (const [key, check, what] of TEST_FIELDS) {
      const v = (t as Record<string, unknown>)[key]
      if (!check(v)) return `tests[${i}].${key} is ${describe(v)}, not ${what}`
    }
  }
  return null
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing'
  const text = JSON.stringify(v) ?? String(v)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}
