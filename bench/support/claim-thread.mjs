// One racing thread of the claim benchmark. Waits at a shared start line, claims until nothing is
// left with the given strategy, and sends back which slots it won (a byte per slot, transferred),
// so the main thread can count duplicates without the tally itself costing atomics in the loop.
import { parentPort, workerData } from 'node:worker_threads'
import { wrap } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { claim, claimNext, openBoard } from '../../dist/src/claim/board.js'

const { strategy, buffer, size, lanes, lane, gate, port } = workerData
const won = new Uint8Array(size)
const start = new Int32Array(gate)
let host
if (strategy === 'comlink') host = wrap(nodeEndpoint(port))

Atomics.add(start, 1, 1)
Atomics.wait(start, 0, 0)
let count = 0
if (strategy === 'cursor') {
  const board = openBoard(buffer, size, lanes)
  for (let i = claimNext(board, lane); i >= 0; i = claimNext(board, lane)) {
    won[i]++
    count++
  }
} else if (strategy === 'scan') {
  const board = openBoard(buffer, size, lanes)
  for (let i = 0; i < size; i++) if (claim(board, i, lane)) { won[i]++; count++ }
} else if (strategy === 'naive') {
  // The pipeline demo's race, in memory: look, then write. Plain (non-atomic) reads and writes.
  const slots = new Int32Array(buffer)
  for (let i = 0; i < size; i++) {
    if (slots[i] === 0) {
      slots[i] = lane
      won[i]++
      count++
    }
  }
} else if (strategy === 'postmessage') {
  // A queue in the main thread: ask, wait for the answer, repeat.
  for (;;) {
    const i = await new Promise((resolve) => {
      port.once('message', resolve)
      port.postMessage(lane)
    })
    if (i < 0) break
    won[i]++
    count++
  }
} else if (strategy === 'comlink') {
  for (let i = await host.next(); i >= 0; i = await host.next()) { won[i]++; count++ }
}
parentPort.postMessage({ count, won }, [won.buffer])
if (port) port.close()
