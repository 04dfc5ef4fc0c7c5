import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { tally, VERDICT, type Tally } from '../record/outcome.js'
import type { RunResult } from '../vocab/types.js'
import { formatMs } from './format.js'
import { logFileName } from '../vocab/names.js'
import { jsonChunks } from '../util/json-chunks.js'
import { plural } from '../util/plural.js'

/** The page's own script and style, inlined so the report is one file that works offline. */
const asset = (name: string): string => readFileSync(new URL(`../../../assets/${name}`, import.meta.url), 'utf8')

/** How much of each worker log is embedded (its end); the full log stays next to the report. */
export const EMBED_LOG_BYTES = 1024 * 1024

/**
 * JSON that is safe inside <script type="application/json">: `<`, `>` and `&` are escaped so no
 * string a test printed can close the element or open a comment; U+2028/9 for old parsers.
 */
const scriptSafe = (json: string): string =>
  json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')

export interface PageData {
  mode: 'static' | 'live'
  result?: RunResult
  logs?: Record<string, string>
  /** The run's tally (live pages get it with every event instead). */
  tally?: Tally
}

export function renderPage(data: PageData): string {
  return [...pageChunks(data)].join('')
}

/**
 * The page in pieces (see util/json-chunks.ts): a finished run's data is written test by test, so a
 * report of 10,000 tests never sits whole in memory. Each piece is escaped alike (escaping is per
 * character), so the page is the same as `renderPage`'s.
 */
export function* pageChunks(data: PageData): Generator<string> {
  yield `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:">
<title>claimrun report</title>
<style>${asset('report.css')}</style>
</head>
<body>
<noscript>This report needs JavaScript; results.json next to it has the same data.</noscript>
<script type="application/json" id="claimrun-data">`
  // Levels: the page's data, the result, its tests; each test (and each log's piece) in one go.
  for (const piece of jsonChunks({ ...data, verdict: VERDICT }, 0, 3)) yield scriptSafe(piece)
  yield `</script>
<script>window.claimrunFormatMs = ${formatMs.toString()}</script>
<script>${asset('report.js')}</script>
</body>
</html>
`
}

/** The last `limit` bytes of a file (cut at a line start), or '' if it cannot be read. */
export function tailOfFile(path: string, limit = EMBED_LOG_BYTES): string {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const size = fstatSync(fd).size
    const start = Math.max(0, size - limit)
    const buf = Buffer.alloc(size - start)
    readSync(fd, buf, 0, buf.length, start)
    let text = buf.toString('utf8')
    if (start > 0) text = `[claimrun: the first ${plural(start, 'byte')} of this log are in the file itself]\n${text.slice(text.indexOf('\n') + 1)}`
    return text
  } catch {
    return ''
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * The self-contained report for a finished run, with each worker's log (its end) embedded when the
 * logs are on this machine (a report combined from a shared store has none: they stay on each node).
 */
export function renderReport(result: RunResult, out: string, withLogs = true): string {
  return [...reportChunks(result, out, withLogs)].join('')
}

/** `renderReport` in pieces, for writing to a file as it is made. */
export function reportChunks(result: RunResult, out: string, withLogs = true): Generator<string> {
  // Each log's end is read as the page reaches it, so only one (up to EMBED_LOG_BYTES) is in memory at a time.
  const logs: Record<string, string> = {}
  for (const w of withLogs ? result.workers : []) Object.defineProperty(logs, w, { enumerable: true, get: () => tailOfFile(join(out, logFileName(w))) })
  // The page never needs the absolute out path; leaving it out keeps a copied report portable.
  const { out: _out, ...shown } = result
  return pageChunks({ mode: 'static', result: shown as RunResult, logs, tally: tally(result) })
}
