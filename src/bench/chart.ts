/**
 * A small self-contained SVG chart of a claim benchmark: claims per second (log scale), one group of
 * bars per thread count, one colour per strategy; a "!" over any bar whose strategy claimed a slot twice.
 */
import { STRATEGIES, type BenchRow, type Strategy } from './strategies.js'

/** The subtitle names the machine (from os.cpus()), so it is escaped like any outside text. */
const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const COLORS: Record<Strategy, string> = {
  cursor: '#2b7a3d', needs: '#7fb800', scan: '#5aa469', naive: '#c0392b', postmessage: '#2e6da4', comlink: '#8e44ad', redis: '#d35400',
}

/** Room a legend label takes: a generous width per character of sans-serif at this size, so that no label reaches the next (Chromium checks it in bench.test.ts). */
const labelWidth = (text: string): number => text.length * 6.6

/** Legend entries laid out left to right, wrapping to a new row when the next would pass `right`. */
function legendLayout(labels: readonly string[], left: number, right: number, top: number): { at: Array<{ x: number; y: number }>; bottom: number } {
  const at: Array<{ x: number; y: number }> = []
  let x = left
  let y = top
  for (const label of labels) {
    const w = 14 + labelWidth(label)
    if (x > left && x + w > right) {
      x = left
      y += 16
    }
    at.push({ x, y })
    x += Math.round(w + 20)
  }
  return { at, bottom: y }
}

export function claimsChart(rows: readonly BenchRow[], subtitle: string): string {
  const strategies = [...new Set(rows.map((r) => r.strategy))]
  const threads = [...new Set(rows.map((r) => r.threads))].sort((a, b) => a - b)
  const W = 760
  const left = 70
  const bottom = 300
  const top = 40
  const legend = legendLayout(strategies.map((s) => STRATEGIES[s]), left, W - 10, bottom + 36)
  const H = legend.bottom + 38
  const rates = rows.map((r) => r.claimsPerSec).filter((v) => v > 0)
  const max = Math.ceil(Math.log10(Math.max(...rates, 10)))
  const min = Math.min(Math.floor(Math.log10(Math.min(...rates, 10))), max - 1)
  const y = (v: number): number => bottom - ((Math.log10(Math.max(v, 10 ** min)) - min) / (max - min)) * (bottom - top)
  const groupW = (W - left - 20) / Math.max(threads.length, 1)
  const barW = Math.min(18, (groupW - 10) / Math.max(strategies.length, 1))
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${left}" y="20" font-size="13" font-weight="bold">Claims per second by strategy and thread count (log scale)</text>`,
    `<text x="${left}" y="34" fill="#555">${escapeHtml(subtitle)}</text>`,
  ]
  for (let e = min; e <= max; e++) {
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`)
    parts.push(`<text x="${left - 6}" y="${y(10 ** e) + 4}" text-anchor="end">1e${e}</text>`)
  }
  threads.forEach((t, g) => {
    const x0 = left + g * groupW + 5
    strategies.forEach((s, k) => {
      const r = rows.find((row) => row.strategy === s && row.threads === t)
      if (!r) return
      const yy = y(r.claimsPerSec)
      const title = `${STRATEGIES[s]}, ${t} thread${t === 1 ? '' : 's'}: ${Math.round(r.claimsPerSec)} claims/s, ${r.duplicates} duplicate${r.duplicates === 1 ? '' : 's'}, shares ${r.shares.map((x) => `${Math.round(x * 100)}%`).join(' ')}`
      parts.push(`<rect x="${x0 + k * barW}" y="${yy}" width="${barW - 2}" height="${bottom - yy}" fill="${COLORS[s]}"><title>${escapeHtml(title)}</title></rect>`)
      if (r.duplicates > 0) parts.push(`<text x="${x0 + k * barW + barW / 2 - 1}" y="${yy - 3}" text-anchor="middle" fill="#c0392b" font-weight="bold">!</text>`)
    })
    parts.push(`<text x="${x0 + (strategies.length * barW) / 2}" y="${bottom + 16}" text-anchor="middle">${t} thread${t > 1 ? 's' : ''}</text>`)
  })
  strategies.forEach((s, k) => {
    const { x: lx, y: ly } = legend.at[k] as { x: number; y: number }
    parts.push(`<g class="legend"><rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLORS[s]}"/><text x="${lx + 14}" y="${ly}">${escapeHtml(STRATEGIES[s])}</text></g>`)
  })
  parts.push(`<text x="${W - 10}" y="${H - 6}" text-anchor="end" fill="#c0392b">! = duplicates (the same slot claimed twice)</text>`)
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}
