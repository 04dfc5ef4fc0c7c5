// Test-only worker file (the one seam: run()'s internal `_testOnlyWorker`, see src/lanes/pool.ts).
// It runs claimrun's real worker, but watches the lane's conversation with the main thread and,
// once the chosen test has started and printed something, ends the worker thread the way a real
// fault would: an uncaught exception, process.exit() inside the thread, running out of memory, or
// ("lose") returning from the task while still holding the claim, unreported — a stand-in for a
// runner bug. workerData: { test, how, attempts }.
import { readFileSync } from 'node:fs'
import { workerData } from 'node:worker_threads'
import work from '../../dist/workers/worker.js'
import { decodeTest } from '../../dist/src/claim/plan-buffer.js'
import { lanePid, openBoard } from '../../dist/src/claim/board.js'

const plan = workerData

function die(how) {
  if (how === 'exit') process.exit(70)
  if (how === 'throw') {
    setImmediate(() => {
      throw new Error('claimrun test hook: uncaught exception in worker')
    })
    return
  }
  const hog = []
  for (;;) hog.push(new Array(1 << 20).fill(hog.length))
}

/** Whether the log holds output after the last line starting with `header`. */
const printedAfter = (file, header) => {
  try {
    const text = readFileSync(file, 'utf8')
    const at = text.lastIndexOf(header)
    const lineEnd = at < 0 ? -1 : text.indexOf('\n', at)
    return lineEnd >= 0 && text.length > lineEnd + 1
  } catch {
    return false
  }
}

export default async function dyingWork(task) {
  // Look at everything the lane sends to the main thread, as it is sent (no extra port: the real
  // worker blocks its thread in Atomics.wait between tests, so nothing here may need a turn of it).
  const port = task.port
  const post = port.postMessage.bind(port)
  let silenced = false
  let lost = null
  const lose = new Promise((resolve) => (lost = resolve))
  port.postMessage = (m, transfer) => {
    if (!silenced) post(m, transfer)
    // A start comes as a one-way note (src/vocab/notes.ts), maybe in a batch, or, failing that, a comlink call.
    const notes = m?.note === 'batch' ? m.notes : [m]
    const startNote = notes.find((n) => n?.note === 'started')
    const started = startNote ? startNote.report : m?.type === 'APPLY' && m.path?.[0] === 'testStarted' ? m.argumentList?.[0]?.value : undefined
    if (!started || decodeTest(task.plan, started.slot).id !== plan.test || started.attempt > plan.attempts) return
    // Die once the test has shown it is running: its first output reached the log, after the
    // header of this attempt (the start is told once the test has run a while, so it may be there already).
    const header = `=== ${plan.test} (attempt ${started.attempt}, `
    const watch = setInterval(() => {
      if (!printedAfter(task.logFile, header)) return
      clearInterval(watch)
      if (plan.how !== 'lose') return die(plan.how)
      // Return holding the claim, unreported: end the test's group, drop the lane's later reports.
      silenced = true
      const pid = lanePid(openBoard(task.board, 0, task.lanes), task.lane)
      try {
        if (pid) process.kill(-pid, 'SIGKILL')
      } catch {
        // already gone
      }
      lost({ lane: task.lane, ran: 0, threadId: 0 })
    }, 2)
  }
  return Promise.race([work(task), lose])
}
