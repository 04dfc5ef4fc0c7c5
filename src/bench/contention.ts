/**
 * Claim contention: how fast threads take work items under each strategy, whether any item is taken
 * twice, and how evenly the items spread over the threads.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import { expose } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { create } from '../claim/public-board.js'
import { createNeedsBoard, type NeedsBoard } from '../claim/groups.js'
import type { RaceData } from './race-thread.js'
import { isMessageBased, type BenchRow, type Strategy } from './strategies.js'

const THREAD = new URL('./race-thread.js', import.meta.url)

/** What one repetition measured. */
export interface RaceResult {
  ns: number
  claims: number
  duplicates: number
  missing: number
  /** Claims made by each thread. */
  counts: number[]
}

/** Tallies the slots the threads won: duplicates (claims past the first) and slots nobody won. */
export function tally(size: number, won: Uint8Array[]): { duplicates: number; missing: number } {
  const hits = new Uint16Array(size)
  for (const w of won) for (let i = 0; i < size; i++) hits[i] = (hits[i] as number) + (w[i] as number)
  let duplicates = 0
  let missing = 0
  for (let i = 0; i < size; i++) {
    const h = hits[i] as number
    if (h > 1) duplicates += h - 1
    else if (h === 0) missing++
  }
  return { duplicates, missing }
}

/** Races `threads` worker threads over `size` slots once with one in-process strategy. */
export async function raceOnce(strategy: Exclude<Strategy, 'redis'>, threads: number, size: number): Promise<RaceResult> {
  const board = strategy === 'cursor' || strategy === 'needs' ? create(size, threads) : null
  const needs = strategy === 'needs' ? constrainedBoard(size, threads).buffer : null
  const slots = strategy === 'scan' || strategy === 'naive' ? new Int32Array(new SharedArrayBuffer(size * 4)) : null
  const gate = new Int32Array(new SharedArrayBuffer(8))
  let next = 0
  const handOut = (): number => (next < size ? next++ : -1)
  const mainPorts: MessagePort[] = []
  const workers: Worker[] = []
  for (let lane = 1; lane <= threads; lane++) {
    let port: MessagePort | null = null
    if (strategy === 'postmessage' || strategy === 'comlink') {
      const { port1, port2 } = new MessageChannel()
      mainPorts.push(port1)
      if (strategy === 'postmessage') port1.on('message', () => port1.postMessage(handOut()))
      else expose({ next: handOut }, nodeEndpoint(port1))
      port = port2
    }
    const data: RaceData = { strategy, board, slots, size, lane, gate, port, needs }
    workers.push(new Worker(THREAD, { workerData: data, transferList: port ? [port] : [] }))
  }
  const results = workers.map((w) => new Promise<{ count: number; won: Uint8Array }>((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
    w.once('exit', (code) => reject(new Error(`a racing thread exited (${code}) before reporting`)))
  }))
  try {
    // Everyone at the start line before the clock starts: thread start-up is not claim cost.
    while (Atomics.load(gate, 1) < threads) await new Promise((r) => setTimeout(r, 1))
    const t0 = process.hrtime.bigint()
    Atomics.store(gate, 0, 1)
    Atomics.notify(gate, 0)
    const done = await Promise.all(results)
    const ns = Number(process.hrtime.bigint() - t0)
    const counts = done.map((d) => d.count)
    return { ns, claims: counts.reduce((a, b) => a + b, 0), counts, ...tally(size, done.map((d) => d.won)) }
  } finally {
    for (const p of mainPorts) p.close()
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

/** Every slot in two of four groups, each with room for every thread: the claim does all its work and never waits. */
function constrainedBoard(size: number, threads: number): NeedsBoard {
  const tests = Array.from({ length: size }, (_, i) => ({ weight: 1, groups: [i % 4, (i + 1) % 4].sort(), estimateMs: null }))
  return createNeedsBoard({ tests, groupMax: [threads, threads, threads, threads], capacity: threads, lanes: threads })
}

/** Folds repetitions into one row: medians of time, the worst duplicates, shares of the median run. */
export function summarize(strategy: Strategy, threads: number, slots: number, runs: RaceResult[]): BenchRow {
  const byTime = [...runs].sort((a, b) => a.ns / a.claims - b.ns / b.claims)
  const mid = byTime[Math.floor(byTime.length / 2)] as RaceResult
  const nsPerClaim = mid.ns / mid.claims
  return {
    strategy, threads, slots, reps: runs.length,
    nsPerClaim,
    claimsPerSec: 1e9 / nsPerClaim,
    duplicates: Math.max(...runs.map((r) => r.duplicates)),
    missing: Math.max(...runs.map((r) => r.missing)),
    shares: mid.counts.map((c) => (mid.claims ? c / mid.claims : 0)),
  }
}

export interface ContentionOptions {
  strategies: readonly Exclude<Strategy, 'redis'>[]
  threads: readonly number[]
  /** Slots for the shared-memory strategies. */
  slots: number
  /** Slots for the strategies that cost a message round trip per claim. */
  messageSlots: number
  reps: number
  onRow?: (row: BenchRow) => void
}

/** Every strategy at every thread count, `reps` times each. */
export async function benchContention(o: ContentionOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  for (const strategy of o.strategies) {
    for (const threads of o.threads) {
      const size = isMessageBased(strategy) ? o.messageSlots : o.slots
      const runs: RaceResult[] = []
      for (let r = 0; r < o.reps; r++) runs.push(await raceOnce(strategy, threads, size))
      const row = summarize(strategy, threads, size, runs)
      rows.push(row)
      o.onRow?.(row)
    }
  }
  return rows
}
