/**
 * One racing thread of `claimrun bench`. Waits at a shared start line, claims until nothing is left
 * with the given strategy, and sends back how many claims it made and which slots it won (a byte per
 * slot, transferred), so the main thread counts duplicates without the tally costing atomics here.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { wrap } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { claim, type Board } from '../claim/public-board.js'
import { claimWithNeeds, openNeedsBoard, releaseNeeds } from '../claim/groups.js'
import type { Strategy } from './strategies.js'

export interface RaceData {
  strategy: Strategy
  /** cursor: the claim board; scan and naive: a plain shared Int32Array of `size` slots. */
  board: Board | null
  slots: Int32Array | null
  size: number
  lane: number
  /** [0]: the start line (0 until go), [1]: how many threads are ready. */
  gate: Int32Array
  port: MessagePort | null
  /** needs: the needs board beside `board` (every slot in two groups that never fill, so a claim never waits). */
  needs: SharedArrayBuffer | null
}

const { strategy, board, slots, size, lane, gate, port, needs } = workerData as RaceData
const won = new Uint8Array(size)
let count = 0

function scan(cells: Int32Array): void {
  // Every thread walks the slots from the start and tries each: whoever reaches a slot first wins it.
  for (let i = 0; i < size; i++) {
    if (Atomics.compareExchange(cells, i, 0, lane) === 0) {
      won[i] = 1
      count++
    }
  }
}

function naive(cells: Int32Array): void {
  // The pipeline demo's race, in memory: look, then write, with plain (non-atomic) reads and writes.
  for (let i = 0; i < size; i++) {
    if (cells[i] === 0) {
      cells[i] = lane
      won[i] = 1
      count++
    }
  }
}

async function viaMain(p: MessagePort): Promise<void> {
  // A queue in the main thread: ask, wait for the answer, repeat.
  for (;;) {
    const i = await new Promise<number>((resolve) => {
      p.once('message', resolve)
      p.postMessage(lane)
    })
    if (i < 0) return
    won[i] = 1
    count++
  }
}

async function viaComlink(p: MessagePort): Promise<void> {
  const host = wrap<{ next(): number }>(nodeEndpoint(p))
  for (let i = await host.next(); i >= 0; i = await host.next()) {
    won[i] = 1
    count++
  }
}

Atomics.add(gate, 1, 1)
Atomics.notify(gate, 1)
Atomics.wait(gate, 0, 0)
if (strategy === 'cursor' && board) {
  for (let i = claim(board, lane); i >= 0; i = claim(board, lane)) {
    won[i] = 1
    count++
  }
} else if (strategy === 'needs' && board && needs) {
  // A constrained claim's whole cost: the locked scan and take, then the release (and its wake) once the "test" ends.
  const nb = openNeedsBoard(needs)
  for (let i = claimWithNeeds(board, nb, lane); i >= 0; i = claimWithNeeds(board, nb, lane)) {
    won[i] = 1
    count++
    releaseNeeds(board, nb, lane)
  }
} else if (strategy === 'scan' && slots) {
  scan(slots)
} else if (strategy === 'naive' && slots) {
  naive(slots)
} else if (strategy === 'postmessage' && port) {
  await viaMain(port)
} else if (strategy === 'comlink' && port) {
  await viaComlink(port)
}
parentPort?.postMessage({ count, won }, [won.buffer])
port?.close()
