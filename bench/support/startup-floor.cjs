// The start-up floor of claimrun's design, for `npm run bench`: Node, FLOOR_THREADS (default 1) bare
// worker threads started at once, each spawning `sh -c 'exit 0'` (stdio piped, its own process
// group, as claimrun forks a test) and printing when it began to (epoch ms), then three small files
// written once every test is done, and exit. No claimrun code at all: what any runner built this way
// (Node, worker threads, a spawn from each) cannot go below on this machine.
'use strict'
const { Worker } = require('node:worker_threads')
const { writeFileSync } = require('node:fs')
const { join } = require('node:path')

const threads = Number(process.env.FLOOR_THREADS || 1)
let left = threads
for (let i = 0; i < threads; i++) {
  const worker = new Worker(`
const { spawn } = require('node:child_process')
const { parentPort } = require('node:worker_threads')
// Noted as claimrun notes a test's start: right before the spawn.
const at = performance.timeOrigin + performance.now()
const child = spawn('sh', ['-c', 'exit 0'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
child.stdout.resume()
child.stderr.resume()
child.on('close', () => parentPort.postMessage(at))
`, { eval: true })
  worker.once('message', (at) => {
    process.stdout.write(`spawned ${at}\n`)
    if (--left > 0) return
    for (const name of ['results.json', 'summary.txt', 'report.html']) writeFileSync(join(process.cwd(), name), '{}\n')
    process.exit(0)
  })
}
