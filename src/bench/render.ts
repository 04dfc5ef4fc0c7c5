/** `claimrun bench` output: a plain table for people, JSON for tools. */
import { STRATEGIES, type BenchRow } from './strategies.js'

export interface BenchMeta {
  node: string
  cpus: number
  cpuModel: string
  platform: string
  date: string
}

const fixed = (n: number, d: number): string => (Number.isFinite(n) ? n.toFixed(d) : '-')

/** Each thread's share in percent, e.g. `50 50`; the ideal is 100/threads each. */
export const sharesText = (shares: readonly number[]): string => shares.map((s) => Math.round(s * 100)).join(' ')

export function renderTable(rows: readonly BenchRow[], meta: BenchMeta): string {
  const head = ['strategy', 'threads', 'slots', 'ns/claim', 'claims/s', 'duplicates', 'shares % (per thread)']
  const body = rows.map((r) => [
    STRATEGIES[r.strategy], String(r.threads), String(r.slots), fixed(r.nsPerClaim, 1), fixed(r.claimsPerSec, 0),
    String(r.duplicates) + (r.missing ? ` (${r.missing} never claimed!)` : ''), sharesText(r.shares),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd()
  const reps = [...new Set(rows.map((r) => r.reps))].join('/')
  return [
    `claim contention on ${meta.cpus} × ${meta.cpuModel}, Node ${meta.node}, ${meta.platform}; medians of ${reps} repetition${reps === '1' ? '' : 's'}, duplicates: the worst`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n') + '\n'
}

export const renderJson = (rows: readonly BenchRow[], meta: BenchMeta): string => JSON.stringify({ version: 1, ...meta, rows }, null, 2) + '\n'
