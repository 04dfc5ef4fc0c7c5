import { escapeLine } from '../util/escape.js'
import type { RunEvent } from '../types.js'
import { subtestTotal } from './subtests.js'
import { describeOrder, formatMs, makeStyle, pad, STATUS_COLOR } from './format.js'

/** One plain line per finished test (and per worker crash); what a CI log or a pipe should get. */
export function lineReporter(stream: NodeJS.WritableStream, color: boolean): (event: RunEvent) => void {
  const style = makeStyle(color)
  let total = 0
  let done = 0
  return (event) => {
    switch (event.type) {
      case 'run:start':
        total = event.tests
        stream.write(`claimrun: ${event.tests} tests on ${event.workers.length} workers, order ${describeOrder(event.order)}${event.shard ? `, shard ${event.shard}` : ''}; logs in ${event.out}\n`)
        break
      case 'test:end': {
        done++
        const t = event.test
        const where = t.worker ?? '-'
        const subtests = t.subtests ? ` (${t.subtests.passed}/${subtestTotal(t.subtests)} sub-tests passed)` : ''
        stream.write(`[${String(done).padStart(String(total).length)}/${total}] ${style(STATUS_COLOR[t.status], pad(t.status, 11))} ${pad(where, 10)} ${pad(formatMs(t.durationMs), 9)} ${escapeLine(t.id)}${subtests}\n`)
        break
      }
      case 'test:retry': {
        const t = event.test
        stream.write(`${' '.repeat(2 * String(total).length + 3)} ${style('yellow', pad('retry', 11))} ${pad(t.worker ?? '-', 10)} ${pad(formatMs(t.durationMs), 9)} ${escapeLine(t.id)} (attempt ${t.attempts} ${t.status})\n`)
        break
      }
      case 'test:slow':
        stream.write(`slow: ${escapeLine(event.test)} on ${event.worker}, ${formatMs(event.elapsedMs)}\n`)
        break
      case 'run:bail':
        stream.write(`claimrun: --bail: ${event.failures} failed; no more tests are started\n`)
        break
      case 'worker:crash':
        stream.write(style('magenta', `claimrun: ${event.worker} died${event.test ? ` while running ${escapeLine(event.test)}` : ''}: ${escapeLine(event.reason)}\n`))
        break
      case 'run:warning':
        process.stderr.write(`claimrun: warning: ${escapeLine(event.message)}\n`)
        break
      case 'run:interrupt':
        stream.write(`claimrun: stopping (${event.reason})\n`)
        break
      default:
        break
    }
  }
}
