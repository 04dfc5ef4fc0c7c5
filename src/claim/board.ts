/**
 * The claim board: one SharedArrayBuffer that every worker thread and the main thread share.
 * It is this module's alone; everything else goes through the small functions below.
 *
 * Layout (Int32 cells):
 *
 *   header   CURSOR      next slot index a worker should try (Atomics.add hands each index out once)
 *            DONE        how many slots are finished (done or cancelled)
 *            STOP        1 once the run stops claiming (interrupt, bail, end)
 *            EPOCH       bumped, with Atomics.notify, whenever a waiting worker should look again
 *            RETRIES     how many slots wait in the RETRY state
 *   lanes    per worker lane (1-based): PID (= process group) of the test it is running, 0 if none
 *   slots    one per test, in plan order
 *   starts   one per test: how many times its claim was handed back (so a worker knows the attempt)
 *
 * Slot values: FREE (0); RUNNING by lane w is `w` (1..MAX_LANES); DONE by lane w is `-w`;
 * RETRY after lane w is `RETRY_BASE + w` (free again, for another lane if one can take it);
 * CANCELLED is a slot the main thread took away before anyone claimed it (the run stopped).
 * So at any moment a slot says whether it is free, who is running it, or who finished it.
 */

const FREE = 0
const CANCELLED = -0x7fff_ffff
/** Lane ids are small positive ints so that `-lane` (done) never collides with CANCELLED. */
export const MAX_LANES = 1024
const RETRY_BASE = 0x10000

const CURSOR = 0
const DONE = 1
const STOP = 2
const EPOCH = 3
const RETRIES = 4
const HEADER_CELLS = 5
const LANE_PID = 0
const LANE_CELLS = 1

export interface ClaimBoard {
  readonly buffer: SharedArrayBuffer
  readonly size: number
  readonly lanes: number
  readonly cells: Int32Array
}

export type SlotState =
  | { state: 'free' }
  | { state: 'running'; lane: number }
  | { state: 'done'; lane: number }
  | { state: 'retry'; after: number }
  | { state: 'cancelled' }

const slotsOffset = (lanes: number): number => HEADER_CELLS + (lanes + 1) * LANE_CELLS

export function createBoard(size: number, lanes: number): ClaimBoard {
  if (lanes < 1 || lanes > MAX_LANES) throw new RangeError(`lanes must be 1..${MAX_LANES}`)
  const buffer = new SharedArrayBuffer((slotsOffset(lanes) + 2 * size) * Int32Array.BYTES_PER_ELEMENT)
  return { buffer, size, lanes, cells: new Int32Array(buffer) }
}

/** Re-opens a board from its buffer inside a worker thread (the buffer is shared, not copied). */
export function openBoard(buffer: SharedArrayBuffer, size: number, lanes: number): ClaimBoard {
  return { buffer, size, lanes, cells: new Int32Array(buffer) }
}

const laneCell = (lane: number, field: number): number => HEADER_CELLS + lane * LANE_CELLS + field
const slotCell = (board: ClaimBoard, i: number): number => slotsOffset(board.lanes) + i
const startsCell = (board: ClaimBoard, i: number): number => slotsOffset(board.lanes) + board.size + i

/** The attempt a worker is making now that it holds slot i (1 for a first run). */
export const attemptOf = (board: ClaimBoard, i: number): number =>
  Atomics.load(board.cells, startsCell(board, i)) + 1

/** Returns true for exactly one caller per slot, however many race for it. */
export function claim(board: ClaimBoard, i: number, lane: number): boolean {
  return Atomics.compareExchange(board.cells, slotCell(board, i), FREE, lane) === FREE
}

/**
 * Claims the next slot, or returns -1 when none can be taken right now. A retry waiting for
 * another lane comes first (a failed test is rerun promptly, elsewhere); then the next free slot
 * in plan order; then, with nothing else left, a retry of this lane's own failure.
 * Atomics.add hands every cursor value to one caller, so in the common case the first
 * compareExchange wins and a claim costs O(1). The compareExchange is still what decides:
 * a slot handed back by `release` (cursor rewound) may be raced for by several workers.
 */
export function claimNext(board: ClaimBoard, lane: number): number {
  const { cells, size } = board
  if (Atomics.load(cells, RETRIES) > 0) {
    const i = claimRetry(board, lane, false)
    if (i >= 0) return i
  }
  while (Atomics.load(cells, CURSOR) < size) {
    const i = Atomics.add(cells, CURSOR, 1)
    if (i >= size) break
    if (claim(board, i, lane)) return i
  }
  return Atomics.load(cells, RETRIES) > 0 ? claimRetry(board, lane, true) : -1
}

/**
 * Takes a slot in the RETRY state with the same single compareExchange (RETRY_BASE + w → lane).
 * A scan, but only while a retry is pending, and retries are few.
 */
function claimRetry(board: ClaimBoard, lane: number, own: boolean): number {
  const base = slotsOffset(board.lanes)
  for (let i = 0; i < board.size; i++) {
    const v = Atomics.load(board.cells, base + i)
    if (v <= RETRY_BASE || (!own && v - RETRY_BASE === lane)) continue
    if (Atomics.compareExchange(board.cells, base + i, v, lane) === v) {
      Atomics.sub(board.cells, RETRIES, 1)
      return i
    }
  }
  return -1
}

/**
 * Puts a finished attempt back to be run again (`--retries`), preferring another lane:
 * running-by-lane → RETRY_BASE + lane. The attempt count is raised first, as in `release`.
 */
export function requeue(board: ClaimBoard, i: number, lane: number): boolean {
  Atomics.add(board.cells, startsCell(board, i), 1)
  // RETRIES is raised before the slot changes so that a claimer never sees it go below zero.
  Atomics.add(board.cells, RETRIES, 1)
  const ok = Atomics.compareExchange(board.cells, slotCell(board, i), lane, RETRY_BASE + lane) === lane
  if (ok) {
    wake(board)
  } else {
    Atomics.sub(board.cells, RETRIES, 1)
    Atomics.sub(board.cells, startsCell(board, i), 1)
  }
  return ok
}

/**
 * Marks slot i finished by `lane`. Only the main thread calls it, when it records the result, so
 * "done" in shared memory and "recorded" in the results can never disagree.
 */
export function markDone(board: ClaimBoard, i: number, lane: number): boolean {
  const ok = Atomics.compareExchange(board.cells, slotCell(board, i), lane, -lane) === lane
  if (ok) {
    Atomics.add(board.cells, DONE, 1)
    wake(board)
  }
  return ok
}

/**
 * Hands a claim back (the lane died, or the test is to be retried): running-by-lane → FREE, then the
 * cursor is rewound so the next claimNext finds it. The slot is freed before the cursor moves and
 * EPOCH is bumped last, so a worker that saw the old EPOCH either sees the rewound cursor or is
 * woken by the notify: no lost wake-up.
 */
export function release(board: ClaimBoard, i: number, lane: number): boolean {
  // Counted before the slot is freed, so whoever claims it next reads the new attempt number.
  Atomics.add(board.cells, startsCell(board, i), 1)
  const ok = Atomics.compareExchange(board.cells, slotCell(board, i), lane, FREE) === lane
  if (ok) {
    rewindCursor(board, i)
    wake(board)
  } else {
    Atomics.sub(board.cells, startsCell(board, i), 1)
  }
  return ok
}

function rewindCursor(board: ClaimBoard, i: number): void {
  for (;;) {
    const c = Atomics.load(board.cells, CURSOR)
    if (c <= i || Atomics.compareExchange(board.cells, CURSOR, c, i) === c) return
  }
}

/**
 * Takes every still-free slot away (the run is stopping): FREE or RETRY → CANCELLED, by the same
 * compareExchange a worker uses, so each slot is either claimed by a worker or cancelled, never both.
 */
export function cancelFree(board: ClaimBoard): number[] {
  const cancelled: number[] = []
  for (let i = 0; i < board.size; i++) {
    const cell = slotCell(board, i)
    const v = Atomics.load(board.cells, cell)
    if ((v === FREE || v > RETRY_BASE) && Atomics.compareExchange(board.cells, cell, v, CANCELLED) === v) {
      if (v > RETRY_BASE) Atomics.sub(board.cells, RETRIES, 1)
      Atomics.add(board.cells, DONE, 1)
      cancelled.push(i)
    }
  }
  wake(board)
  return cancelled
}

/**
 * In a run shared through a store the store decides who holds a test; the local slot only mirrors
 * it, for this process's bookkeeping (pids, crashes, the closing count). Main thread only.
 */
export function takeForLane(board: ClaimBoard, i: number, lane: number): void {
  const previous = Atomics.exchange(board.cells, slotCell(board, i), lane)
  if (previous < 0 && previous !== CANCELLED) Atomics.sub(board.cells, DONE, 1)
}

export function stop(board: ClaimBoard): void {
  Atomics.store(board.cells, STOP, 1)
  wake(board)
}

export const isStopped = (board: ClaimBoard): boolean => Atomics.load(board.cells, STOP) === 1

/** Atomics.waitAsync (in every Node this runs on; its type is in TypeScript's ES2024 lib). */
const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number, timeoutMs?: number) => { async: boolean; value: unknown } }).waitAsync

/**
 * Resolves once the run is stopped, without polling: `stop` bumps EPOCH with a notify, which wakes
 * this thread's asynchronous wait. A run that ends unstopped leaves it pending (it keeps no thread alive).
 */
export async function whenStopped(board: ClaimBoard): Promise<void> {
  for (;;) {
    const epoch = Atomics.load(board.cells, EPOCH)
    if (isStopped(board)) return
    const wait = waitAsync(board.cells, EPOCH, epoch)
    if (wait.async) await wait.value
  }
}
/**
 * The main thread's wait for a release (a shared run's claim that found nothing that fits here):
 * resolves once EPOCH moved past `epoch` (a test ended here, see announceRelease) or after `timeoutMs`.
 */
export async function releasedSince(board: ClaimBoard, epoch: number, timeoutMs: number): Promise<void> {
  const wait = waitAsync(board.cells, EPOCH, epoch, timeoutMs)
  if (wait.async) await wait.value
}
export const doneCount = (board: ClaimBoard): number => Atomics.load(board.cells, DONE)

/**
 * For a claim with needs (claim/groups.ts), which scans in plan order instead of taking the cursor's
 * next slot: whether slot i may be claimed now (free, or waiting for a retry by any lane).
 */
export function isOpen(board: ClaimBoard, i: number): boolean {
  const v = Atomics.load(board.cells, slotCell(board, i))
  return v === FREE || v > RETRY_BASE
}

/** Claims slot i when it is open, by one compareExchange as `claim` does: one winner per slot. */
export function claimOpen(board: ClaimBoard, i: number, lane: number): boolean {
  const cell = slotCell(board, i)
  const v = Atomics.load(board.cells, cell)
  if (v !== FREE && v <= RETRY_BASE) return false
  if (Atomics.compareExchange(board.cells, cell, v, lane) !== v) return false
  if (v > RETRY_BASE) Atomics.sub(board.cells, RETRIES, 1)
  return true
}

/** Whether a slot waits in the RETRY state (a requeued slot may lie below a scan's hint). */
export const retriesPending = (board: ClaimBoard): boolean => Atomics.load(board.cells, RETRIES) > 0

/** The count a worker waits on: read it before looking for work, then `awaitChange` sleeps only if nothing changed since. */
export const epochOf = (board: ClaimBoard): number => Atomics.load(board.cells, EPOCH)

/**
 * A worker that found nothing it may start sleeps until something is released, finished or handed
 * back after it read `epoch` (each bumps EPOCH and notifies), so a release between its look and its
 * sleep is never missed. Returns false when the worker should exit: the run stopped, or all is done.
 */
export function awaitRelease(board: ClaimBoard, epoch: number, timeoutMs = 1000): boolean {
  if (isStopped(board) || doneCount(board) >= board.size) return false
  Atomics.wait(board.cells, EPOCH, epoch, timeoutMs)
  return true
}

/** Tells sleeping workers that capacity or a group came free (see claim/groups.ts). */
export function announceRelease(board: ClaimBoard): void {
  wake(board)
}

function wake(board: ClaimBoard): void {
  Atomics.add(board.cells, EPOCH, 1)
  Atomics.notify(board.cells, EPOCH)
}

/**
 * Blocks a worker thread until there may be something to claim again, or the run is over.
 * Returns false when the worker should exit: the run stopped, or every slot is finished.
 */
export function awaitWork(board: ClaimBoard, timeoutMs = 1000): boolean {
  for (;;) {
    const epoch = Atomics.load(board.cells, EPOCH)
    if (isStopped(board) || doneCount(board) >= board.size) return false
    if (Atomics.load(board.cells, CURSOR) < board.size || Atomics.load(board.cells, RETRIES) > 0) return true
    Atomics.wait(board.cells, EPOCH, epoch, timeoutMs)
  }
}

export function setLanePid(board: ClaimBoard, lane: number, pid: number): void {
  Atomics.store(board.cells, laneCell(lane, LANE_PID), pid)
}

export function lanePid(board: ClaimBoard, lane: number): number {
  return Atomics.load(board.cells, laneCell(lane, LANE_PID))
}

export function slotState(board: ClaimBoard, i: number): SlotState {
  const v = Atomics.load(board.cells, slotCell(board, i))
  if (v === FREE) return { state: 'free' }
  if (v === CANCELLED) return { state: 'cancelled' }
  if (v > RETRY_BASE) return { state: 'retry', after: v - RETRY_BASE }
  return v > 0 ? { state: 'running', lane: v } : { state: 'done', lane: -v }
}

/** Every slot that `lane` holds as running (a dead lane holds at most one; a scan is fine then). */
export function slotsHeldBy(board: ClaimBoard, lane: number): number[] {
  const held: number[] = []
  const base = slotsOffset(board.lanes)
  for (let i = 0; i < board.size; i++) if (Atomics.load(board.cells, base + i) === lane) held.push(i)
  return held
}
