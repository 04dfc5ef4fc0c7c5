/**
 * Lock groups, weights and serial tests, claimed on shared memory beside the claim board. This
 * module owns the needs buffer (a second SharedArrayBuffer, written once by the main thread and then
 * changed only through the functions below); the slots stay claim/board.ts's.
 *
 * Layout: Float64 BASE (the run's Date.now() origin), then Int32 cells:
 *
 *   header   LOCK        0, or the lane that is claiming or releasing (MAIN_LOCK: the main thread)
 *            CAPACITY    the run's --workers: the sum of running weights never exceeds it
 *            USED        the sum of the weights running now
 *            LOW         every slot below it is taken or finished (a scan's hint; 0 after a hand-back)
 *            GROUPS, LANES, SIZE   the board's shape, so a worker opens it from the buffer alone
 *            LOCK_WAITERS  how many threads sleep on LOCK (unlock notifies only when some do)
 *   groups   per group: USED, MAX
 *   lanes    per lane (1-based): HELD (slot + 1 whose needs the lane holds, 0 none), STARTED (ms since BASE)
 *   slots    per test: WEIGHT, ESTIMATE (ms, -1 unknown), FIRST (membership list offset), COUNT,
 *            BLOCKED_AT (ms since BASE + 1 when first passed over, 0 not waiting), WAITED (ms), WHY
 *            (while waiting: the latest reason; once started: the one that held it longest),
 *            SEEN_AT (ms since BASE + 1 when last passed over), OWN_MS (of the wait so far, the time
 *            under its own needs: a group, capacity), OWN_WHY (the latest of those)
 *   members  the group indexes of each test, sorted
 *
 * Every change to USED, a group's USED and HELD happens under LOCK, so a claim takes all of a test's
 * groups and its capacity at once or nothing: a test never holds one group while it waits for another.
 * A shared run's takes are the one exception: made by the main thread alone (see fitMask).
 */
import { announceRelease, claimOpen, isOpen, retriesPending, type ClaimBoard } from './board.js'

const LOCK = 0
const CAPACITY = 1
const USED = 2
const LOW = 3
const GROUPS = 4
const LANES = 5
const SIZE = 6
const LOCK_WAITERS = 7
const HEADER_CELLS = 8
const GROUP_CELLS = 2
const LANE_CELLS = 2
const SLOT_CELLS = 10
const G_USED = 0
const G_MAX = 1
const L_HELD = 0
const L_STARTED = 1
const S_WEIGHT = 0
const S_ESTIMATE = 1
const S_FIRST = 2
const S_COUNT = 3
const S_BLOCKED_AT = 4
const S_WAITED = 5
const S_WHY = 6
const S_SEEN_AT = 7
const S_OWN_MS = 8
const S_OWN_WHY = 9
/** Int32 cells start after the Float64 BASE. */
const INT_START = 2
const MAIN_LOCK = 0x7fff_fff0

/** Why a test waited: WHY holds one of these, or WHY_GROUP + the group's index. */
const WHY_NONE = 0
export const WHY_CAPACITY = 1
export const WHY_RESERVED = 2
export const WHY_GROUP = 3

export interface NeedsBoard {
  readonly buffer: SharedArrayBuffer
  readonly cells: Int32Array
  readonly base: number
  readonly groups: number
  readonly lanes: number
  readonly size: number
}

export interface NeedsLayout {
  /** Per test in plan order: weight, group indexes, history estimate (null: none). */
  tests: Array<{ weight: number; groups: number[]; estimateMs: number | null }>
  groupMax: number[]
  capacity: number
  lanes: number
}

const groupCell = (g: number, field: number): number => INT_START + HEADER_CELLS + g * GROUP_CELLS + field
const laneCell = (nb: NeedsBoard, lane: number, field: number): number => INT_START + HEADER_CELLS + nb.groups * GROUP_CELLS + lane * LANE_CELLS + field
const slotCell = (nb: NeedsBoard, i: number, field: number): number =>
  INT_START + HEADER_CELLS + nb.groups * GROUP_CELLS + (nb.lanes + 1) * LANE_CELLS + i * SLOT_CELLS + field
const memberCell = (nb: NeedsBoard, k: number): number => slotCell(nb, nb.size, 0) + k

function sizes(groups: number, lanes: number, size: number, members: number): number {
  return INT_START + HEADER_CELLS + groups * GROUP_CELLS + (lanes + 1) * LANE_CELLS + size * SLOT_CELLS + members
}

/** Main thread, before any worker starts: the needs of the plan, in plan order. */
export function createNeedsBoard(layout: NeedsLayout): NeedsBoard {
  const members = layout.tests.reduce((n, t) => n + t.groups.length, 0)
  const cellCount = sizes(layout.groupMax.length, layout.lanes, layout.tests.length, members)
  const buffer = new SharedArrayBuffer(cellCount * Int32Array.BYTES_PER_ELEMENT)
  new Float64Array(buffer, 0, 1)[0] = Date.now()
  const header = new Int32Array(buffer, INT_START * 4, HEADER_CELLS)
  header[CAPACITY] = layout.capacity
  header[GROUPS] = layout.groupMax.length
  header[LANES] = layout.lanes
  header[SIZE] = layout.tests.length
  const nb = openNeedsBoard(buffer)
  const { cells } = nb
  layout.groupMax.forEach((max, g) => (cells[groupCell(g, G_MAX)] = max))
  let k = 0
  layout.tests.forEach((t, i) => {
    cells[slotCell(nb, i, S_WEIGHT)] = t.weight
    cells[slotCell(nb, i, S_ESTIMATE)] = t.estimateMs === null ? -1 : Math.min(Math.round(t.estimateMs), 0x3fff_ffff)
    cells[slotCell(nb, i, S_FIRST)] = k
    cells[slotCell(nb, i, S_COUNT)] = t.groups.length
    for (const g of t.groups) cells[memberCell(nb, k++)] = g
  })
  return nb
}

/** Re-opens the needs board in a worker thread (shared, not copied); its shape is in its header. */
export function openNeedsBoard(buffer: SharedArrayBuffer): NeedsBoard {
  const cells = new Int32Array(buffer)
  const shape = { groups: cells[INT_START + GROUPS] as number, lanes: cells[INT_START + LANES] as number, size: cells[INT_START + SIZE] as number }
  return { ...shape, buffer, cells, base: new Float64Array(buffer, 0, 1)[0] as number }
}

const msSince = (nb: NeedsBoard): number => Math.max(0, Math.round(Date.now() - nb.base))

/**
 * Takes the lock: one compareExchange 0 → lane decides who changes the counters. A loser sleeps on
 * the lock cell (unlock notifies it) instead of spinning; what the holder does is a few dozen loads.
 */
function lock(nb: NeedsBoard, owner: number): void {
  for (;;) {
    const holder = Atomics.compareExchange(nb.cells, INT_START + LOCK, 0, owner)
    if (holder === 0) return
    // Counted before the wait: an unlock that misses the count changed LOCK first, so the wait returns at once.
    Atomics.add(nb.cells, INT_START + LOCK_WAITERS, 1)
    Atomics.wait(nb.cells, INT_START + LOCK, holder, 50)
    Atomics.sub(nb.cells, INT_START + LOCK_WAITERS, 1)
  }
}

/** The store publishes every counter change made under the lock before the next holder reads them (Atomics are sequentially consistent). */
function unlock(nb: NeedsBoard): void {
  Atomics.store(nb.cells, INT_START + LOCK, 0)
  if (Atomics.load(nb.cells, INT_START + LOCK_WAITERS) > 0) Atomics.notify(nb.cells, INT_START + LOCK, 1)
}

/**
 * Main thread, after a lane died holding the lock (or not): takes the lock from it, since a dead
 * thread never unlocks. Only a lane that is gone is ever taken over, so no holder is overrun.
 */
function lockOver(nb: NeedsBoard, dead: number): void {
  for (;;) {
    const holder = Atomics.compareExchange(nb.cells, INT_START + LOCK, 0, MAIN_LOCK)
    if (holder === 0) return
    if (holder === dead && Atomics.compareExchange(nb.cells, INT_START + LOCK, dead, MAIN_LOCK) === dead) return
    Atomics.add(nb.cells, INT_START + LOCK_WAITERS, 1)
    Atomics.wait(nb.cells, INT_START + LOCK, holder, 5)
    Atomics.sub(nb.cells, INT_START + LOCK_WAITERS, 1)
  }
}

const load = (nb: NeedsBoard, cell: number): number => Atomics.load(nb.cells, cell)

/** The first of slot i's groups that is full now, or -1 when every one has room. Under the lock. */
function fullGroup(nb: NeedsBoard, i: number): number {
  const first = load(nb, slotCell(nb, i, S_FIRST))
  const count = load(nb, slotCell(nb, i, S_COUNT))
  for (let k = first; k < first + count; k++) {
    const g = load(nb, memberCell(nb, k))
    if (load(nb, groupCell(g, G_USED)) >= load(nb, groupCell(g, G_MAX))) return g
  }
  return -1
}

/** A reason that is the test's own need (a group, capacity), not a heavier test's reservation. */
const ownReason = (why: number): boolean => why !== WHY_NONE && why !== WHY_RESERVED

/**
 * Records that slot i was passed over at `at`, and why: when it first was, and how much of the time
 * since went to its own needs (the time between two looks counts under the reason of the first).
 * Under the lock.
 */
function noteBlocked(nb: NeedsBoard, i: number, at: number, why: number): void {
  const seen = load(nb, slotCell(nb, i, S_SEEN_AT))
  if (seen === 0) {
    Atomics.store(nb.cells, slotCell(nb, i, S_BLOCKED_AT), at + 1)
    Atomics.store(nb.cells, slotCell(nb, i, S_OWN_MS), 0)
    Atomics.store(nb.cells, slotCell(nb, i, S_OWN_WHY), WHY_NONE)
  } else if (ownReason(load(nb, slotCell(nb, i, S_WHY)))) {
    Atomics.add(nb.cells, slotCell(nb, i, S_OWN_MS), at - (seen - 1))
  }
  Atomics.store(nb.cells, slotCell(nb, i, S_SEEN_AT), at + 1)
  Atomics.store(nb.cells, slotCell(nb, i, S_WHY), why)
  if (ownReason(why)) Atomics.store(nb.cells, slotCell(nb, i, S_OWN_WHY), why)
}

/** Takes all of slot i's needs for `lane` at once. Under the lock, after the slot's own claim won. */
function take(nb: NeedsBoard, i: number, lane: number, at: number): void {
  Atomics.add(nb.cells, INT_START + USED, load(nb, slotCell(nb, i, S_WEIGHT)))
  const first = load(nb, slotCell(nb, i, S_FIRST))
  for (let k = first; k < first + load(nb, slotCell(nb, i, S_COUNT)); k++) Atomics.add(nb.cells, groupCell(load(nb, memberCell(nb, k)), G_USED), 1)
  Atomics.store(nb.cells, laneCell(nb, lane, L_HELD), i + 1)
  Atomics.store(nb.cells, laneCell(nb, lane, L_STARTED), at)
  const blockedAt = load(nb, slotCell(nb, i, S_BLOCKED_AT))
  const seen = load(nb, slotCell(nb, i, S_SEEN_AT))
  const waited = seen ? at - (blockedAt - 1) : 0
  const own = seen ? load(nb, slotCell(nb, i, S_OWN_MS)) + (ownReason(load(nb, slotCell(nb, i, S_WHY))) ? at - (seen - 1) : 0) : 0
  Atomics.store(nb.cells, slotCell(nb, i, S_WAITED), waited)
  // The reason that held it longest: its own needs, or a heavier test's reservation.
  Atomics.store(nb.cells, slotCell(nb, i, S_WHY), !seen ? WHY_NONE : own * 2 >= waited ? load(nb, slotCell(nb, i, S_OWN_WHY)) : WHY_RESERVED)
  Atomics.store(nb.cells, slotCell(nb, i, S_BLOCKED_AT), 0)
  Atomics.store(nb.cells, slotCell(nb, i, S_SEEN_AT), 0)
}

/** Gives back what `lane` holds (its test ended). Under the lock. */
function giveBack(nb: NeedsBoard, lane: number): void {
  const held = load(nb, laneCell(nb, lane, L_HELD)) - 1
  if (held < 0) return
  Atomics.sub(nb.cells, INT_START + USED, load(nb, slotCell(nb, held, S_WEIGHT)))
  const first = load(nb, slotCell(nb, held, S_FIRST))
  for (let k = first; k < first + load(nb, slotCell(nb, held, S_COUNT)); k++) Atomics.sub(nb.cells, groupCell(load(nb, memberCell(nb, k)), G_USED), 1)
  Atomics.store(nb.cells, laneCell(nb, lane, L_HELD), 0)
}

/**
 * The reservation for the first test in order that waits for capacity (weight `need`, `free` slots
 * free now): `shadow`, when enough running tests are expected to have ended for it to start (from
 * their history estimates; Infinity when one it must wait for has none), and `extra`, the capacity
 * that is still spare then. Under the lock.
 */
function reservation(nb: NeedsBoard, need: number, free: number, at: number): { shadow: number; extra: number } {
  const ends: Array<{ end: number; weight: number }> = []
  for (let lane = 1; lane <= nb.lanes; lane++) {
    const held = load(nb, laneCell(nb, lane, L_HELD)) - 1
    if (held < 0) continue
    const estimate = load(nb, slotCell(nb, held, S_ESTIMATE))
    const end = estimate < 0 ? Infinity : Math.max(at, load(nb, laneCell(nb, lane, L_STARTED)) + estimate)
    ends.push({ end, weight: load(nb, slotCell(nb, held, S_WEIGHT)) })
  }
  ends.sort((a, b) => a.end - b.end)
  let freed = free
  for (const { end, weight } of ends) {
    freed += weight
    if (freed >= need) {
      if (end === Infinity) return { shadow: Infinity, extra: 0 }
      // Everything else that ends by then frees capacity too.
      const more = ends.filter((e) => e.end <= end).reduce((n, e) => n + e.weight, 0)
      return { shadow: end, extra: free + more - need }
    }
  }
  return { shadow: Infinity, extra: 0 }
}

/** Whether slot i (of `weight`, which fits now) may start beside a waiting heavy test's reservation: it is expected to end by then, or uses capacity spare even then. */
function mayBackfill(nb: NeedsBoard, i: number, weight: number, head: { shadow: number; extra: number }, at: number): boolean {
  const estimate = load(nb, slotCell(nb, i, S_ESTIMATE))
  return (estimate >= 0 && at + estimate <= head.shadow) || weight <= head.extra
}

/**
 * Claims the first test in plan order whose needs fit now, for `lane`; -1 when none does. A test
 * whose group is full, or that needs more capacity than is free, is passed over for now. The first
 * one that waits for capacity holds a reservation: a later test may start beside it only if it is
 * expected to end before that test can start, or uses capacity that is spare even then
 * (backfilling); without an estimate, nothing starts past it. Worker threads only.
 */
export function claimWithNeeds(board: ClaimBoard, nb: NeedsBoard, lane: number): number {
  lock(nb, lane)
  try {
    const free = load(nb, INT_START + CAPACITY) - load(nb, INT_START + USED)
    if (free <= 0) return -1
    const at = msSince(nb)
    const start = retriesPending(board) ? 0 : load(nb, INT_START + LOW)
    let low = start
    let leading = true
    let head: { shadow: number; extra: number } | null = null
    for (let i = start; i < nb.size; i++) {
      if (!isOpen(board, i)) {
        if (leading) low = i + 1
        continue
      }
      leading = false
      const full = fullGroup(nb, i)
      if (full >= 0) {
        noteBlocked(nb, i, at, WHY_GROUP + full)
        continue
      }
      const weight = load(nb, slotCell(nb, i, S_WEIGHT))
      if (weight > free) {
        noteBlocked(nb, i, at, WHY_CAPACITY)
        head ??= reservation(nb, weight, free, at)
        continue
      }
      if (head && !mayBackfill(nb, i, weight, head, at)) {
        noteBlocked(nb, i, at, WHY_RESERVED)
        continue
      }
      if (!claimOpen(board, i, lane)) continue
      take(nb, i, lane, at)
      Atomics.store(nb.cells, INT_START + LOW, low)
      return i
    }
    Atomics.store(nb.cells, INT_START + LOW, low)
    return -1
  } finally {
    unlock(nb)
  }
}

/** A worker's test ended (its process group is gone): its groups and capacity are free again, and sleepers are woken. */
export function releaseNeeds(board: ClaimBoard, nb: NeedsBoard, lane: number): void {
  lock(nb, lane)
  try {
    giveBack(nb, lane)
  } finally {
    unlock(nb)
  }
  announceRelease(board)
}

/**
 * Main thread, once a lane's thread is gone (died, or returned holding a claim): gives back what it
 * held, even if it died holding the lock, and lets scans look from the start again (its slot may have
 * been handed back below the hint).
 */
export function releaseLaneNeeds(board: ClaimBoard, nb: NeedsBoard, lane: number): void {
  lockOver(nb, lane)
  try {
    giveBack(nb, lane)
    rebuildCounters(nb)
    Atomics.store(nb.cells, INT_START + LOW, 0)
  } finally {
    unlock(nb)
  }
  announceRelease(board)
}

/** Recounts USED and each group's USED from what the lanes hold: a thread that died halfway through a change leaves them right. Under the lock. */
function rebuildCounters(nb: NeedsBoard): void {
  Atomics.store(nb.cells, INT_START + USED, 0)
  for (let g = 0; g < nb.groups; g++) Atomics.store(nb.cells, groupCell(g, G_USED), 0)
  for (let lane = 1; lane <= nb.lanes; lane++) {
    const held = load(nb, laneCell(nb, lane, L_HELD)) - 1
    if (held < 0) continue
    Atomics.add(nb.cells, INT_START + USED, load(nb, slotCell(nb, held, S_WEIGHT)))
    const first = load(nb, slotCell(nb, held, S_FIRST))
    for (let k = first; k < first + load(nb, slotCell(nb, held, S_COUNT)); k++) Atomics.add(nb.cells, groupCell(load(nb, memberCell(nb, k)), G_USED), 1)
  }
}

/** What a shared run's store claim may take for this machine, per slot in plan order (see fitMask). */
export const FITS = '.'
export const GROUP_FULL = 'g'
export const NEEDS_CAPACITY = 'c'
/** Heavy tests' reservations a mask can describe: the first this many distinct weights that wait for capacity here. */
export const BACKFILL_CLASSES = 4

/**
 * Main thread of a shared run, where the store is asked for the next test: one character per slot
 * saying whether its needs fit on this machine now. The store alone knows which tests are still
 * free, so the scan in order happens there; this is the local half of it, the same rules as
 * claimWithNeeds:
 * - GROUP_FULL: a group of it is full here (passed over);
 * - 'A' + k: it needs more capacity than is free here, and its weight is the k-th of the first
 *   BACKFILL_CLASSES distinct weights that do (the first such test the store meets holds a
 *   reservation); NEEDS_CAPACITY for any other weight (the store takes nothing after it);
 * - FITS: it fits, and may start beside any of those reservations; or '0' + bits when it may start
 *   only beside some (bit k: beside a reservation for class k), by mayBackfill's rule: it is
 *   expected to end before that heavy test can start, or uses capacity spare even then.
 * So a heavy or serial test is never starved by lighter ones, and lighter ones still fill what it
 * cannot use, as in a local run. `groupFull` hears which group was full for each GROUP_FULL slot.
 *
 * Without the lock: in a shared run only the main thread takes (workers only give back), so a read
 * in the middle of a give-back sees some counters before it and some after, each a state in which
 * what fits still fits (and a test still held ends later than it will: the reservation errs long);
 * and the main thread never waits on a worker thread that may have died.
 */
export function fitMask(nb: NeedsBoard, groupFull?: (slot: number, group: number) => void): string {
  const free = load(nb, INT_START + CAPACITY) - load(nb, INT_START + USED)
  const at = msSince(nb)
  const weightOf = (i: number): number => load(nb, slotCell(nb, i, S_WEIGHT))
  const classes: number[] = []
  for (let i = 0; i < nb.size && classes.length < BACKFILL_CLASSES; i++) {
    const w = weightOf(i)
    if (w > free && !classes.includes(w) && fullGroup(nb, i) < 0) classes.push(w)
  }
  const heads = classes.map((w) => reservation(nb, w, free, at))
  const all = (1 << heads.length) - 1
  let mask = ''
  for (let i = 0; i < nb.size; i++) {
    const full = fullGroup(nb, i)
    if (full >= 0) {
      groupFull?.(i, full)
      mask += GROUP_FULL
      continue
    }
    const weight = weightOf(i)
    if (weight > free) {
      const k = classes.indexOf(weight)
      mask += k >= 0 ? String.fromCharCode(65 + k) : NEEDS_CAPACITY
      continue
    }
    let bits = 0
    heads.forEach((head, k) => {
      if (mayBackfill(nb, i, weight, head, at)) bits |= 1 << k
    })
    mask += bits === all ? FITS : String.fromCharCode(48 + bits)
  }
  return mask
}

/**
 * Main thread of a shared run: takes slot i's needs for `lane`, right after the store gave it the
 * test under a mask from fitMask. Claims are made one at a time (see lanes/shared-needs.ts) and a
 * worker only ever gives back (atomic subtractions, which commute with these additions), so what
 * the mask said still holds, and no lock is needed (see fitMask). The store, which alone sees every
 * machine pass a test over, says how long it waited and why (WHY_*; absent: it did not).
 */
export function takeNeedsFor(nb: NeedsBoard, i: number, lane: number, waited?: { ms: number; why: number }): void {
  take(nb, i, lane, msSince(nb))
  if (!waited) return
  Atomics.store(nb.cells, slotCell(nb, i, S_WAITED), Math.min(Math.max(0, Math.round(waited.ms)), 0x3fff_ffff))
  Atomics.store(nb.cells, slotCell(nb, i, S_WHY), waited.why)
}

/** How long slot i's latest start waited for its needs, and why (main thread, once it ended). */
export function waitOf(nb: NeedsBoard, i: number): { ms: number; why: number } {
  return { ms: load(nb, slotCell(nb, i, S_WAITED)), why: load(nb, slotCell(nb, i, S_WHY)) }
}

/** The capacity in use and each group's running count (for the tests). */
export function usage(nb: NeedsBoard): { used: number; groups: number[] } {
  return { used: load(nb, INT_START + USED), groups: Array.from({ length: nb.groups }, (_, g) => load(nb, groupCell(g, G_USED))) }
}
