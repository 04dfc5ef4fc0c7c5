import { escapeLine } from '../util/escape.js'
import { describeEnd, isFailure } from '../record/outcome.js'
import type { RunEvent, TestResult } from '../vocab/types.js'
import { formatMs, makeStyle, STATUS_COLOR } from './format.js'

const REDRAW_MS = 100
const BAR = 24

/**
 * The terminal view while a run goes: one line per worker (its test and how long it has run), a
 * progress bar with failures and an ETA; failures and slow tests are printed above it as they
 * happen. log-update does the redrawing (cursor moves, erasing) so we write no escape codes by hand.
 */
export async function liveReporter(stream: NodeJS.WriteStream, color: boolean): Promise<{ onEvent: (event: RunEvent) => void; stop: () => void }> {
  // Loaded here, not at the top: only a terminal run wants it (see scripts/bundle.mjs).
  const { createLogUpdate } = await import('log-update')
  const log = createLogUpdate(stream)
  const style = makeStyle(color)
  const current = new Map<string, { test: string; since: number }>()
  let workers: string[] = []
  let total = 0
  let done = 0
  let failed = 0
  let finishedMs = 0
  let estimates: Record<string, number> = {}
  const finishedIds = new Set<string>()
  let timer: NodeJS.Timeout | undefined

  const eta = (): string => {
    if (done === total) return ''
    const known = Object.values(estimates)
    const mean = known.length ? known.reduce((a, b) => a + b, 0) / known.length : done ? finishedMs / done : 0
    if (!mean) return ''
    const unfinishedKnown = Object.entries(estimates).filter(([id]) => !finishedIds.has(id))
    const unknownLeft = Math.max(0, total - done - unfinishedKnown.length)
    let remaining = unfinishedKnown.reduce((a, [, ms]) => a + ms, 0) + unknownLeft * mean
    for (const { since } of current.values()) remaining -= Math.min(Date.now() - since, mean)
    return ` · ETA ${formatMs(Math.max(0, remaining) / Math.max(1, workers.length))}`
  }

  const frame = (): string => {
    const width = Math.max(40, stream.columns ?? 80)
    const lines = workers.map((w) => {
      const c = current.get(w)
      if (!c) return ` ${w}  ${style('gray', 'idle')}`
      const elapsed = formatMs(Date.now() - c.since)
      const name = escapeLine(c.test)
      const room = width - w.length - elapsed.length - 6
      return ` ${w}  ${name.length > room ? '…' + name.slice(name.length - room + 1) : name}  ${style('gray', elapsed)}`
    })
    const filled = total ? Math.round((done / total) * BAR) : 0
    const bar = `[${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}]`
    lines.push(` ${bar} ${done}/${total}${failed ? ` · ${style('red', `${failed} failed`)}` : ''}${eta()}`)
    return lines.join('\n')
  }

  const persist = (line: string): void => log.persist(line)

  const stop = (): void => {
    if (timer) clearInterval(timer)
    timer = undefined
    log.clear()
    log.done()
  }

  const describe = (t: TestResult): string =>
    `${t.worker ?? '-'}, ${formatMs(t.durationMs)}`

  const onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case 'run:start':
        workers = event.workers
        total = event.tests
        estimates = event.estimates ?? {}
        timer = setInterval(() => log(frame()), REDRAW_MS)
        timer.unref()
        break
      case 'test:start':
        current.set(event.worker, { test: event.test, since: Date.now() })
        break
      case 'test:retry':
        persist(style('yellow', `↻ retry   ${escapeLine(event.test.id)} (attempt ${event.test.attempts}: ${describeEnd(event.test)}; ${describe(event.test)})`))
        break
      case 'test:end': {
        const t = event.test
        done++
        finishedIds.add(t.id)
        finishedMs += t.durationMs ?? 0
        if (t.worker && current.get(t.worker)?.test === t.id) current.delete(t.worker)
        if (isFailure(t.status)) {
          failed++
          persist(style(STATUS_COLOR[t.status], `✗ ${escapeLine(t.id)}: ${describeEnd(t)} (${describe(t)})`))
        }
        break
      }
      case 'test:slow':
        persist(style('yellow', `slow: ${escapeLine(event.test)} on ${event.worker}, ${formatMs(event.elapsedMs)}`))
        break
      case 'worker:crash':
        persist(style('magenta', `${event.worker} died${event.test ? ` while running ${escapeLine(event.test)}` : ''}: ${escapeLine(event.reason)}`))
        break
      case 'run:warning':
        persist(style('yellow', `warning: ${escapeLine(event.message)}`))
        break
      case 'run:interrupt':
        persist(`stopping (${event.reason})`)
        break
      case 'run:bail':
        persist(`--bail: ${event.failures} failed; no more tests are started`)
        break
      case 'run:end':
        stop()
        break
      default:
        break
    }
  }
  return { onEvent, stop }
}
