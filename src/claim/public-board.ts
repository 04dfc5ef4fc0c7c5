/**
 * `claimrun/board`: the claim primitive claimrun's worker threads use, for people who embed it or
 * benchmark it. A board is N slots in one SharedArrayBuffer; any number of threads claim slots from
 * it, and each slot is handed to exactly one of them however many race for it.
 *
 * ```js
 * import { create, claim, finish, stats } from 'claimrun/board'
 * const board = create(10_000, 4)          // 10,000 work items, lanes 1..4
 * worker.postMessage(board)                // the buffer is shared, not copied
 * // in each thread, with its own lane number:
 * for (let slot = claim(board, lane); slot >= 0; slot = claim(board, lane)) { work(slot); finish(board, slot, lane) }
 * ```
 *
 * A claim is one `Atomics.add` on a shared cursor (each index goes to one caller) confirmed by one
 * `Atomics.compareExchange` on the slot; a released slot is raced for again by the same exchange.
 */
import {
  claimNext, createBoard, markDone, MAX_LANES, release as releaseSlot, slotState, type ClaimBoard,
} from './board.js'

/**
 * A claim board. A plain object holding a SharedArrayBuffer view: pass it to a worker thread with
 * `postMessage` (or in `workerData`) and both sides share the same slots.
 */
export type Board = ClaimBoard

/** Counts over every slot, and each lane's share of the claims (running and finished). */
export interface BoardStats {
  size: number
  lanes: number
  free: number
  running: number
  finished: number
  /** Slots held or finished by each lane, index 0 = lane 1. */
  byLane: number[]
}

export { MAX_LANES }

/**
 * A board of `size` slots (work items 0..size-1) for lanes 1..`lanes` (at most MAX_LANES).
 * @throws RangeError when size or lanes is not a whole number in range.
 */
export function create(size: number, lanes: number): Board {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size must be a whole number ≥ 0 (received ${size})`)
  if (!Number.isSafeInteger(lanes) || lanes < 1 || lanes > MAX_LANES) throw new RangeError(`lanes must be a whole number from 1 to ${MAX_LANES} (received ${lanes})`)
  return createBoard(size, lanes)
}

/** Claims the next free slot for `lane` (1-based); returns its index, or -1 when none is free. */
export function claim(board: Board, lane: number): number {
  return claimNext(board, lane)
}

/** Marks a slot that `lane` holds as finished. Returns false if `lane` did not hold it. */
export function finish(board: Board, slot: number, lane: number): boolean {
  return markDone(board, slot, lane)
}

/**
 * Hands a slot that `lane` holds back to the board, so that the next claim (by any lane) gets it.
 * Returns false if `lane` did not hold it.
 */
export function release(board: Board, slot: number, lane: number): boolean {
  return releaseSlot(board, slot, lane)
}

/** A snapshot: how many slots are free, running, finished, and each lane's share. O(size). */
export function stats(board: Board): BoardStats {
  const byLane = new Array<number>(board.lanes).fill(0)
  let free = 0
  let running = 0
  let finished = 0
  for (let i = 0; i < board.size; i++) {
    const s = slotState(board, i)
    if (s.state === 'running' || s.state === 'done') {
      byLane[s.lane - 1] = (byLane[s.lane - 1] ?? 0) + 1
      if (s.state === 'running') running++
      else finished++
    } else if (s.state === 'free' || s.state === 'retry') {
      free++
    }
  }
  return { size: board.size, lanes: board.lanes, free, running, finished, byLane }
}
