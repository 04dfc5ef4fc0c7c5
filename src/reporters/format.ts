import { styleText } from 'node:util'
import { isAbsolute, relative } from 'node:path'
import type { RunResult, Status } from '../vocab/types.js'
import { shouldColorize } from './color.js'

export type Style = (format: Parameters<typeof styleText>[0], text: string) => string

/**
 * Colours only when asked (see color.ts); otherwise text stays plain. styleText is told not to
 * check process.stdout itself: the caller has decided for the stream it writes to.
 */
export const makeStyle = (color: boolean): Style =>
  color ? (format, text) => styleText(format, text, { validateStream: false }) : (_f, text) => text

/** Whether a stream should get colour: Node's own rules (FORCE_COLOR, NO_COLOR, TTY); see color.ts. */
export const wantsColor = (stream: NodeJS.WriteStream): boolean => shouldColorize(stream)

export const STATUS_COLOR: Record<Status, Parameters<typeof styleText>[0]> = {
  passed: 'green',
  flaky: 'yellow',
  failed: 'red',
  timedout: 'red',
  error: 'magenta',
  interrupted: 'yellow',
  notrun: 'gray',
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '-'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  const m = Math.floor(ms / 60_000)
  return `${m}m${((ms % 60_000) / 1000).toFixed(0).padStart(2, '0')}s`
}

/** Width in terminal columns, close enough for padding (wide characters count double). */
export function width(text: string): number {
  let w = 0
  for (const ch of text) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}]/u.test(ch) ? 2 : 1
  return w
}

export const pad = (text: string, n: number): string => text + ' '.repeat(Math.max(0, n - width(text)))
export const padStart = (text: string, n: number): string => ' '.repeat(Math.max(0, n - width(text))) + text

export const describeOrder = (order: RunResult['order']): string =>
  order.mode === 'random' ? `random (seed ${order.seed})` : order.mode

/** A path as a person would type it from `cwd`: relative inside it, absolute outside it. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path)
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel
}
