// The floor for any Node runner: spawn each file (argv: command then files) on `lanes` async lanes,
// with the same spawn options claimrun uses (own process group, stdin closed, stdout and stderr
// piped and drained), waiting for each child's 'close'. Nothing else: no claims, no results, no logs.
//   node spawn-floor.mjs main <lanes> <command> <files...>      one thread, async lanes
//   node spawn-floor.mjs threads <lanes> <command> <files...>   one bare worker thread per lane
import { spawn } from 'node:child_process'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'

const one = (command, file) => new Promise((resolve) => {
  const child = spawn(command, [file], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.on('data', () => {})
  child.stderr.on('data', () => {})
  child.on('close', resolve)
})

if (isMainThread) {
  const [mode, lanes, command, ...files] = process.argv.slice(2)
  if (mode === 'main') {
    let next = 0
    await Promise.all(Array.from({ length: Number(lanes) }, async () => {
      while (next < files.length) await one(command, files[next++])
    }))
  } else {
    const cursor = new Int32Array(new SharedArrayBuffer(4))
    await Promise.all(Array.from({ length: Number(lanes) }, () => new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { cursor, command, files } })
      w.once('message', resolve)
      w.once('error', reject)
    })))
  }
} else {
  const { cursor, command, files } = workerData
  for (let i = Atomics.add(cursor, 0, 1); i < files.length; i = Atomics.add(cursor, 0, 1)) await one(command, files[i])
  parentPort.postMessage('done')
}
