// A stop signal that lands while `claimrun run` starts its worker threads is the run's: it stops
// before any lane claims a test, with results, never with Node's default exit.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir, write } from '../support/helpers.js'

describe('stop signals during start-up', () => {
  it('a SIGTERM while the worker threads are being started: exit 143, every test notrun, none claimed', async () => {
    const dir = tempDir()
    for (let i = 1; i <= 3; i++) write(dir, `suite/test_${i}.sh`, 'exit 0\n')
    // The runner's main thread sends itself a SIGTERM as its second worker thread is made; then, before
    // its event loop next turns (when Node hands the signal to claimrun), it waits until all three
    // threads have loaded their module (each writes a file then): as on a loaded machine, they are
    // ready to claim before the signal is read.
    write(dir, 'signal-on-second-thread.cjs', `
const { writeFileSync, readdirSync, existsSync } = require('node:fs')
const { join } = require('node:path')
const threads = require('node:worker_threads')
const marks = ${JSON.stringify(join(dir, 'marks'))}
if (threads.isMainThread) {
  require('node:fs').mkdirSync(marks, { recursive: true })
  const Made = threads.Worker
  let made = 0
  threads.Worker = function Worker(file, options) {
    const worker = new Made(file, options)
    if (++made === 2) {
      process.kill(process.pid, 'SIGTERM')
      const deadline = Date.now() + 20000
      const tick = new Int32Array(new SharedArrayBuffer(4))
      process.nextTick(() => {
        while (readdirSync(marks).length < 3 && Date.now() < deadline) Atomics.wait(tick, 0, 0, 5)
      })
    }
    return worker
  }
} else {
  // A pool thread: piscina says it is ready right after it has loaded claimrun's worker module
  // (and before it blocks waiting for a task, so nothing later in this thread would run).
  const port = threads.parentPort
  const post = port.postMessage.bind(port)
  let marked = false
  port.postMessage = (message, transfer) => {
    if (!marked && existsSync(marks)) writeFileSync(join(marks, String(threads.threadId)), '')
    marked = true
    return post(message, transfer)
  }
}
`)
    const env = { NODE_OPTIONS: `--require ${join(dir, 'signal-on-second-thread.cjs')}` }
    for (let round = 0; round < 3; round++) {
      const r = await runCli(['run', 'suite', '--workers', '3', '--no-history', '--out', join(dir, 'out')], { cwd: dir, env })
      expect({ round, code: r.code, signal: r.signal }, r.stderr).toEqual({ round, code: 143, signal: null })
      expect(r.stderr).toMatch(/^\nclaimrun: SIGTERM: stopping/)
      const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { counts: Record<string, number> }
      expect(results.counts).toMatchObject({ notrun: 3, passed: 0, interrupted: 0 })
    }
  }, 60_000)

  it('twelve worker threads: a passing run still writes nothing to stderr (no MaxListenersExceededWarning)', async () => {
    const dir = tempDir()
    for (let i = 1; i <= 12; i++) write(dir, `suite/test_${i}.sh`, 'exit 0\n')
    const r = await runCli(['run', 'suite', '--workers', '12', '--no-history', '--out', join(dir, 'out')], { cwd: dir })
    expect({ code: r.code, signal: r.signal }, r.stderr).toEqual({ code: 0, signal: null })
    expect(r.stderr).toBe('')
  })
})
