// Claim contention: how fast threads take work items, and whether any item is taken twice.
import { cpus } from 'node:os'
import { MessageChannel, Worker } from 'node:worker_threads'
import { expose } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { createBoard } from '../dist/src/claim/board.js'

const THREAD = new URL('./support/claim-thread.mjs', import.meta.url)

export const STRATEGIES = {
  cursor: 'shared cursor (Atomics.add) + compareExchange — claimrun',
  scan: 'compareExchange slot scan',
  naive: 'check-then-write (the original race)',
  postmessage: 'postMessage request/response via main thread',
  comlink: 'comlink call per claim',
  redis: 'Redis store (Lua claim script, one round trip)',
}

/** Runs one configuration; returns ns per claim, claims per second, duplicates and missing. */
export async function raceOnce(strategy, threads, size) {
  const lanes = threads
  const board = strategy === 'naive' ? { buffer: new SharedArrayBuffer(size * 4) } : createBoard(size, lanes)
  const gate = new SharedArrayBuffer(8)
  const gateCells = new Int32Array(gate)
  let next = 0
  const channels = []
  const workers = []
  for (let lane = 1; lane <= threads; lane++) {
    let port
    if (strategy === 'postmessage' || strategy === 'comlink') {
      const { port1, port2 } = new MessageChannel()
      channels.push(port1)
      if (strategy === 'postmessage') port1.on('message', () => port1.postMessage(next < size ? next++ : -1))
      else expose({ next: () => (next < size ? next++ : -1) }, nodeEndpoint(port1))
      port = port2
    }
    workers.push(new Worker(THREAD, {
      workerData: { strategy, buffer: board.buffer, size, lanes, lane, gate, port },
      transferList: port ? [port] : [],
    }))
  }
  const done = workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  }))
  while (Atomics.load(gateCells, 1) < threads) await new Promise((r) => setTimeout(r, 2))
  const t0 = process.hrtime.bigint()
  Atomics.store(gateCells, 0, 1)
  Atomics.notify(gateCells, 0)
  const results = await Promise.all(done)
  const ns = Number(process.hrtime.bigint() - t0)
  for (const c of channels) c.close()
  await Promise.all(workers.map((w) => w.terminate()))
  const tally = new Uint8Array(size)
  for (const r of results) for (let i = 0; i < size; i++) tally[i] += r.won[i]
  let duplicates = 0
  let missing = 0
  for (let i = 0; i < size; i++) {
    if (tally[i] > 1) duplicates += tally[i] - 1
    if (tally[i] === 0) missing++
  }
  const claims = results.reduce((a, r) => a + r.count, 0)
  return { nsPerClaim: ns / claims, claimsPerSec: claims / (ns / 1e9), duplicates, missing, claims }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Every strategy at every thread count; medians of `reps` runs (duplicates: the worst run). */
export async function benchClaims({ threads = [1, 2, 3, 4, 8], size = 1_000_000, messageSize = 10_000, reps = 3, strategies = ['cursor', 'scan', 'naive', 'postmessage', 'comlink'], log = console.log } = {}) {
  const rows = []
  for (const strategy of strategies) {
    for (const t of threads) {
      const n = strategy === 'postmessage' || strategy === 'comlink' ? messageSize : size
      const runs = []
      for (let r = 0; r < reps; r++) runs.push(await raceOnce(strategy, t, n))
      const row = {
        strategy, threads: t, slots: n,
        nsPerClaim: median(runs.map((x) => x.nsPerClaim)),
        claimsPerSec: median(runs.map((x) => x.claimsPerSec)),
        duplicates: Math.max(...runs.map((x) => x.duplicates)),
        missing: Math.max(...runs.map((x) => x.missing)),
      }
      rows.push(row)
      log(`  claims  ${strategy.padEnd(11)} ${String(t).padStart(2)} threads  ${row.nsPerClaim.toFixed(1).padStart(9)} ns/claim  ${(row.claimsPerSec / 1e6).toFixed(2).padStart(7)} M/s  duplicates ${row.duplicates}`)
    }
  }
  return rows
}

// Standalone: node bench/claims.mjs [maxThreads] — e.g. on a many-core machine.
if (import.meta.url === `file://${process.argv[1]}`) {
  const max = Number(process.argv[2] ?? 8)
  const threads = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32].filter((t) => t <= max)
  console.log(`claim benchmark on ${cpus().length} cores, Node ${process.version}`)
  const rows = await benchClaims({ threads })
  console.log(JSON.stringify(rows))
}
