// The floor of claimrun's design, for `npm run bench`: Node, FLOOR_THREADS (default 1) bare worker
// threads started at once, then three small files written once every test is done, and exit. No
// claimrun code at all: what any runner built this way (Node, worker threads, a spawn from each)
// cannot go below on this machine.
//   node startup-floor.cjs              each thread spawns `sh -c 'exit 0'` once (the start-up floor)
//   node startup-floor.cjs FILE...      the threads claim the files in the order given, one
//                                       Atomics.add each, and run each as `sh FILE` (the makespan floor)
// Every spawn is as claimrun forks a test (stdio piped, its own process group); the thread prints
// when it began each one (epoch ms).
'use strict'
const { Worker } = require('node:worker_threads')
const { writeFileSync } = require('node:fs')
const { join } = require('node:path')

const threads = Number(process.env.FLOOR_THREADS || 1)
const files = process.argv.slice(2)
// Where the three files go (claimrun's out folder in the makespan suite): FLOOR_OUT, else the current folder.
const out = process.env.FLOOR_OUT || process.cwd()
const next = new Int32Array(new SharedArrayBuffer(4))
let left = threads
for (let i = 0; i < threads; i++) {
  const worker = new Worker(`
const { spawn } = require('node:child_process')
const { parentPort, workerData: { files, next } } = require('node:worker_threads')
function run(argv) {
  // Noted as claimrun notes a test's start: right before the spawn.
  parentPort.postMessage(performance.timeOrigin + performance.now())
  const child = spawn('sh', argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.resume()
  child.stderr.resume()
  return new Promise((resolve) => child.on('close', resolve))
}
;(async () => {
  if (files.length === 0) await run(['-c', 'exit 0'])
  for (let i = Atomics.add(next, 0, 1); i < files.length; i = Atomics.add(next, 0, 1)) await run([files[i]])
  parentPort.postMessage('done')
})()
`, { eval: true, workerData: { files, next } })
  worker.on('message', (m) => {
    if (m !== 'done') return void process.stdout.write(`spawned ${m}\n`)
    if (--left > 0) return
    for (const name of ['results.json', 'summary.txt', 'report.html']) writeFileSync(join(out, name), '{}\n')
    process.exit(0)
  })
}
