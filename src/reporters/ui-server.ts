import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { renderPage, renderReport, tailOfFile } from './html.js'
import { logFileName } from '../vocab/names.js'
import { tally } from '../record/outcome.js'
import type { RunEvent, RunResult, TestResult } from '../vocab/types.js'

export interface UiServer {
  url: string
  onEvent: (event: RunEvent) => void
  close: () => Promise<void>
}

/**
 * `--ui`: the report page served on 127.0.0.1 (a free port), filled in live through server-sent
 * events. Every event so far is replayed to a page that connects late, so it always shows the
 * whole run. Worker logs are read from the out folder when the page asks for them.
 *
 * Only the URL it prints reaches anything: a request must carry that Host (`127.0.0.1:<port>`),
 * which a page on another site cannot send even after DNS rebinding points its name here, and
 * its path must start with the random token in the URL, which another local user or a page
 * guessing ports does not know. Anything else is refused without a hint.
 */
export async function startUiServer(out: string): Promise<UiServer> {
  const events: string[] = []
  const clients = new Set<ServerResponse>()
  let final: RunResult | null = null
  let workers: string[] = []
  const finished = new Map<string, TestResult>()
  const token = randomBytes(18).toString('base64url')
  let host = ''

  // Loaded only for --ui: the CLI's bundle would otherwise load node:http at every start (scripts/bundle.mjs).
  const { createServer } = await import('node:http')
  // Bad input from a client (a malformed URL or escape, a request cut off) is its own problem: it
  // gets a 400, and the run, whose results are at stake, never sees the throw.
  const server = createServer((req, res) => {
    try {
      answer(req, res)
    } catch {
      if (!res.headersSent) res.writeHead(400)
      res.end()
    }
  })
  function answer(req: IncomingMessage, res: ServerResponse): void {
    if ((req.headers.host ?? '').toLowerCase() !== host) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('claimrun: this server answers only to the address it printed\n')
      return
    }
    const url = new URL(req.url ?? '/', 'http://localhost')
    const [, first = '', ...rest] = url.pathname.split('/')
    if (!sameToken(first, token)) {
      res.writeHead(404).end()
      return
    }
    const path = `/${rest.join('/')}`
    if (req.method !== 'GET') {
      res.writeHead(405).end()
    } else if (url.pathname === `/${token}`) {
      // The page's links (events, log/…) are relative: it must be served from the folder URL.
      res.writeHead(308, { location: `/${token}/` }).end()
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end(final ? renderReport(final, out) : renderPage({ mode: 'live' }))
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
      for (const e of events) res.write(e)
      clients.add(res)
      req.on('close', () => clients.delete(res))
    } else if (path.startsWith('/log/')) {
      const worker = decoded(path.slice(5))
      if (worker === null || !workers.includes(worker)) {
        res.writeHead(400).end()
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      res.end(tailOfFile(join(out, logFileName(worker))))
    } else {
      res.writeHead(404).end()
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  host = `127.0.0.1:${port}`

  return {
    url: `http://${host}/${token}/`,
    onEvent(event) {
      let payload: object = event
      if (event.type === 'run:start') workers = event.workers
      if (event.type === 'test:end') {
        finished.set(event.test.id, event.test)
        // The page shows the tally the outcome model gives, never a count of its own.
        payload = { ...event, tally: tally({ workers, tests: [...finished.values()] }) }
      }
      if (event.type === 'run:end') {
        final = event.result
        // The server stops with the run, so the page gets the logs now rather than asking later.
        const logs = Object.fromEntries(event.result.workers.map((w) => [w, tailOfFile(join(out, logFileName(w)))]))
        payload = { ...event, logs, tally: tally(event.result) }
      }
      const line = `data: ${JSON.stringify(payload)}\n\n`
      events.push(line)
      for (const c of clients) c.write(line)
    },
    close() {
      // End each event stream gracefully, so the last event (run:end) reaches the page first.
      for (const c of clients) c.end()
      clients.clear()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const force = setTimeout(() => server.closeAllConnections(), 1000)
      return closed.finally(() => clearTimeout(force))
    },
  }
}

/** A path segment with its %-escapes decoded, or null when they are malformed. */
function decoded(segment: string): string | null {
  try {
    return decodeURIComponent(segment)
  } catch {
    return null
  }
}

/** Compares a path segment with the token in constant time (no timing hint about its prefix). */
function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}
