import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import {
  attemptOf, awaitWork, cancelFree, claimNext, createBoard, doneCount, markDone, release, requeue, slotState, slotsHeldBy,
} from '../../dist/src/claim/board.js'

const RACER = new URL('../support/claim-racer.mjs', import.meta.url)

async function race(strategy: 'cursor' | 'scan', threads: number, size: number): Promise<{ tally: Int32Array; won: number[] }> {
  const board = createBoard(size, threads)
  const tally = new SharedArrayBuffer(size * 4)
  const gate = new SharedArrayBuffer(8)
  const gateCells = new Int32Array(gate)
  const workers = Array.from({ length: threads }, (_, i) =>
    new Worker(RACER, { workerData: { buffer: board.buffer, size, lanes: threads, lane: i + 1, strategy, tally, gate } }),
  )
  const results = workers.map((w) => new Promise<number>((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  }))
  // Open the start line only when every thread waits at it, so they really race.
  while (Atomics.load(gateCells, 1) < threads) await new Promise((r) => setTimeout(r, 5))
  Atomics.store(gateCells, 0, 1)
  Atomics.notify(gateCells, 0)
  const won = await Promise.all(results)
  await Promise.all(workers.map((w) => w.terminate()))
  return { tally: new Int32Array(tally), won }
}

describe('claim board under real contention', () => {
  for (const strategy of ['cursor', 'scan'] as const) {
    for (const threads of [4, 8]) {
      it(`${threads} threads, ${strategy}: each of 100,000 slots is claimed exactly once`, async () => {
        const size = 100_000
        const { tally, won } = await race(strategy, threads, size)
        let duplicates = 0
        let missing = 0
        for (const n of tally) {
          if (n > 1) duplicates++
          if (n === 0) missing++
        }
        expect({ duplicates, missing }).toEqual({ duplicates: 0, missing: 0 })
        expect(won.reduce((a, b) => a + b, 0)).toBe(size)
      })
    }
  }
})

describe('claim board states', () => {
  it('tells free, running (by whom), done (by whom) and cancelled apart', () => {
    const board = createBoard(4, 2)
    expect(claimNext(board, 2)).toBe(0)
    expect(claimNext(board, 1)).toBe(1)
    expect(slotState(board, 0)).toEqual({ state: 'running', lane: 2 })
    expect(markDone(board, 0, 1)).toBe(false) // only the holder's slot can be finished
    expect(markDone(board, 0, 2)).toBe(true)
    expect(slotState(board, 0)).toEqual({ state: 'done', lane: 2 })
    expect(slotState(board, 2)).toEqual({ state: 'free' })
    expect(cancelFree(board)).toEqual([2, 3])
    expect(slotState(board, 3)).toEqual({ state: 'cancelled' })
    expect(claimNext(board, 1)).toBe(-1)
    expect(doneCount(board)).toBe(3)
  })

  it('a released claim is claimed again, as the next attempt, and the cursor finds it', () => {
    const board = createBoard(3, 2)
    for (let i = 0; i < 3; i++) expect(claimNext(board, 1)).toBe(i)
    expect(claimNext(board, 2)).toBe(-1)
    expect(slotsHeldBy(board, 1)).toEqual([0, 1, 2])
    expect(release(board, 1, 2)).toBe(false) // lane 2 does not hold it
    expect(release(board, 1, 1)).toBe(true)
    expect(awaitWork(board, 10)).toBe(true)
    expect(claimNext(board, 2)).toBe(1)
    expect(attemptOf(board, 1)).toBe(2)
    expect(attemptOf(board, 0)).toBe(1)
  })

  it('awaitWork says stop once every slot is finished', () => {
    const board = createBoard(1, 1)
    expect(claimNext(board, 1)).toBe(0)
    markDone(board, 0, 1)
    expect(awaitWork(board, 10)).toBe(false)
  })
})

describe('a retried test prefers another worker', () => {
  it('the lane that failed it takes other work first, another lane takes the retry, and its own lane only when nothing else is left', () => {
    const board = createBoard(3, 2)
    expect(claimNext(board, 1)).toBe(0)
    expect(requeue(board, 0, 1)).toBe(true)
    // Lane 1 skips its own failure while there is other work.
    expect(claimNext(board, 1)).toBe(1)
    // Lane 2 takes the retry before the next free slot, as attempt 2.
    expect(claimNext(board, 2)).toBe(0)
    expect(attemptOf(board, 0)).toBe(2)
    expect(slotState(board, 0)).toEqual({ state: 'running', lane: 2 })
    expect(requeue(board, 0, 2)).toBe(true)
    expect(claimNext(board, 2)).toBe(2)
    // Nothing else is left: lane 2 takes back its own failure rather than leave it waiting.
    expect(claimNext(board, 2)).toBe(0)
    expect(attemptOf(board, 0)).toBe(3)
  })
})
