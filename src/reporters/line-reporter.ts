import { escapeLine } from '../util/escape.js'
import { isPassing } from '../record/outcome.js'
import type { RunEvent } from '../vocab/types.js'
import { subtestTotal } from './subtests.js'
import { waitedNote } from './waited.js'
import { describeOrder, formatMs, makeStyle, pad, STATUS_COLOR } from './format.js'
import { plural } from '../util/plural.js'

/** Progress lines in `quiet` mode: one each time another tenth of the suite has finished. */
const PROGRESS_STEPS = 10

/**
 * One plain line per finished test (and per worker crash); what a CI log or a pipe should get.
 * `quiet` (--summary short) prints only what did not pass, retries and slow tests, plus a
 * progress line every tenth of the suite, for suites too big to list.
 */
export function lineReporter(out: NodeJS.WritableStream, color: boolean, quiet = false): (event: RunEvent) => void {
  const style = makeStyle(color)
  let total = 0
  let done = 0
  let failed = 0
  // The lines of one turn (the lanes' results come in batches) go out in one write, at the end of
  // the turn: a write per test was a good part of the main thread's time per test.
  let lines = ''
  const flush = (): void => {
    const text = lines
    lines = ''
    if (text) out.write(text)
  }
  const stream = {
    write(line: string): void {
      if (!lines) queueMicrotask(flush)
      lines += line
    },
  }
  return (event) => {
    switch (event.type) {
      case 'run:start':
        total = event.tests
        done = 0
        failed = 0
        stream.write(`claimrun: ${plural(event.tests, 'test')} on ${plural(event.workers.length, 'worker')}, order ${describeOrder(event.order)}${event.shard ? `, shard ${event.shard}` : ''}; logs in ${event.out}\n`)
        break
      case 'test:end': {
        done++
        const t = event.test
        const where = t.worker ?? '-'
        const subtests = t.subtests ? ` (${t.subtests.passed}/${subtestTotal(t.subtests)} sub-tests passed)` : ''
        if (!isPassing(t.status)) failed++
        // A test that never ran has nothing to show: the summary counts them (a failed setup's error says why).
        if (t.status !== 'notrun' && (!quiet || t.status !== 'passed')) {
          stream.write(`[${String(done).padStart(String(total).length)}/${total}] ${style(STATUS_COLOR[t.status], pad(t.status, 11))} ${pad(where, 10)} ${pad(formatMs(t.durationMs), 9)} ${escapeLine(t.id)}${subtests}${waitedNote(t)}\n`)
        }
        if (quiet && (done % Math.ceil(total / PROGRESS_STEPS) === 0 || done === total)) stream.write(`progress: ${done}/${total} done, ${failed} did not pass\n`)
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
        flush() // stdout's lines so far first, where both go to one log
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
