import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { renderPage, renderReport, tailOfFile } from './html.js'
import { logFileName } from '../lanes/names.js'
import { tally } from '../record/outcome.js'
import type { RunEvent, RunResult, TestResult } from '../types.js'

export interface UiServer {
  url: string
  onEvent: (event: RunEvent) => void
  close: () => Promise<void>
}

/**
 * `--ui`: the report page served on 127.0.0.1 (a free port), filled in live through server-sent
 * events. Every event so far is replayed to a page that connects late, so it always shows the
 * whole run. Worker logs are read from the out folder when the page asks for them.
 */
export async function startUiServer(out: string): Promise<UiServer> {
  const events: string[] = []
  const clients = new Set<ServerResponse>()
  let final: RunResult | null = null
  let workers: string[] = []
  const finished = new Map<string, TestResult>()

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method !== 'GET') {
      res.writeHead(405).end()
    } else if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end(final ? renderReport(final, out) : renderPage({ mode: 'live' }))
    } else if (url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
      for (const e of events) res.write(e)
      clients.add(res)
      req.on('close', () => clients.delete(res))
    } else if (url.pathname.startsWith('/log/')) {
      const worker = decodeURIComponent(url.pathname.slice(5))
      if (!workers.includes(worker)) {
        res.writeHead(400).end()
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      res.end(tailOfFile(join(out, logFileName(worker))))
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/`,
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
