// A worker thread that races for claims on a real board: waits at a shared start line, then claims
// until nothing is free, counting every win in a shared tally (a duplicate shows up as a 2).
import { workerData, parentPort } from 'node:worker_threads'
import { claim, claimNext, openBoard } from '../../dist/src/claim/board.js'

const { buffer, size, lanes, lane, strategy, tally, gate } = workerData
const board = openBoard(buffer, size, lanes)
const wins = new Int32Array(tally)
const start = new Int32Array(gate)
Atomics.add(start, 1, 1)
Atomics.wait(start, 0, 0)
let won = 0
if (strategy === 'cursor') {
  for (let i = claimNext(board, lane); i >= 0; i = claimNext(board, lane)) {
    Atomics.add(wins, i, 1)
    won++
  }
} else {
  for (let i = 0; i < size; i++) {
    if (claim(board, i, lane)) {
      Atomics.add(wins, i, 1)
      won++
    }
  }
}
parentPort.postMessage(won)
