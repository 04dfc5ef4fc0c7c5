import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { procStat } from '../util/process-group.js'

/** A process and its start time (so a recycled pid is not taken for it). */
export interface LockProcess {
  pid: number
  start: string | null
  /** A guard's own bound on how long it takes to finish its work once the holder is gone. */
  graceMs?: number
}

/**
 * Who holds a lock: a pid and that process's start time, and a process that guards what the holder
 * started (a run's watchdog): the lock stands while either lives, so a holder killed with its
 * processes still being ended does not free it before they are gone.
 */
export interface LockHolder extends LockProcess {
  token: string
  guard?: LockProcess
}

export type LockResult = { ok: true; release: () => void; guardBy: (pid: number, graceMs: number) => void } | { ok: false; holder: LockHolder }

/** A process's start time in clock ticks since boot (/proc/<pid>/stat field 22), or null off Linux. */
const startTime = (pid: number): string | null => procStat(pid)?.[19] ?? null

/** Whether the process still runs: same pid, same start time, not a zombie. */
export function processAlive(p: LockProcess): boolean {
  try {
    process.kill(p.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  // No /proc (not Linux): the signal check is all there is.
  const fields = procStat(p.pid)
  if (fields?.[0] === 'Z') return false
  const start = fields?.[19] ?? null
  return p.start === null || start === null || start === p.start
}

/** Whether the lock still stands: the process that wrote it runs, or the guard it named does. */
export function holderAlive(holder: LockHolder): boolean {
  return processAlive(holder) || (holder.guard !== undefined && Number.isInteger(holder.guard.pid) && holder.guard.pid > 0 && processAlive(holder.guard))
}

/** The lock's holder as written, or null when there is no lock (or not a readable one). */
export function readLock(path: string): LockHolder | null {
  return readHolder(path)?.holder ?? null
}

function readHolder(path: string): { text: string; holder: LockHolder | null } | null {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return null
  }
  try {
    const h = JSON.parse(text) as LockHolder
    return { text, holder: Number.isInteger(h.pid) && h.pid > 0 ? h : null }
  } catch {
    return { text, holder: null }
  }
}

/** Attempts by this process so far: part of each attempt's token. */
let attempts = 0

/**
 * Takes a lock file, or says who holds it. The lock is written whole to a temp file and then
 * hard-linked into place, which fails if the lock exists: so a lock is never seen half-written.
 * A lock whose holder is dead (or unreadable) is stale and taken over: renamed away first, which
 * only one contender can do, and checked to be the very file judged stale.
 */
export function tryLock(path: string): LockResult {
  // Tells this attempt's file from any other's (not a secret, and node:crypto is slow to load at start-up).
  const token = `${process.pid.toString(36)}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}-${(++attempts).toString(36)}`
  const mine: LockHolder = { pid: process.pid, start: startTime(process.pid), token }
  const tmp = `${path}.${mine.token}.claimrun-tmp`
  writeFileSync(tmp, JSON.stringify(mine) + '\n')
  try {
    for (let tries = 0; tries < 10; tries++) {
      try {
        linkSync(tmp, path)
        return { ok: true, release: () => releaseLock(path, mine.token), guardBy: (pid, graceMs) => addGuard(path, mine, { pid, start: startTime(pid), graceMs }) }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const seen = readHolder(path)
      if (!seen) continue // released in between: try again
      if (seen.holder && holderAlive(seen.holder)) return { ok: false, holder: seen.holder }
      const aside = `${path}.stale-${mine.token}`
      try {
        renameSync(path, aside)
      } catch {
        continue // another contender moved it first
      }
      const moved = readHolder(aside)
      // Not the file we judged: a live lock slipped in between; put it back.
      if (moved && moved.text !== seen.text) {
        try {
          linkSync(aside, path)
        } catch {
          // Someone holds it now; theirs stands.
        }
      }
      rmSync(aside, { force: true })
    }
    const seen = readHolder(path)
    return { ok: false, holder: seen?.holder ?? { pid: 0, start: null, token: '' } }
  } finally {
    rmSync(tmp, { force: true })
  }
}

/**
 * Names a guard in our lock (rewritten whole: temp file, then renamed over it), if the lock is still
 * ours. Best effort: a lock a test deleted stays deleted.
 */
function addGuard(path: string, mine: LockHolder, guard: LockProcess): void {
  const seen = readHolder(path)
  if (seen?.holder?.token !== mine.token) return
  const tmp = `${path}.${mine.token}.guard.claimrun-tmp`
  try {
    writeFileSync(tmp, JSON.stringify({ ...mine, guard }) + '\n')
    renameSync(tmp, path)
  } catch {
    try {
      rmSync(tmp, { force: true })
    } catch {
      // Its folder is gone: so is the lock.
    }
  }
}

/** Removes the lock if it is still ours (a test may have deleted it, or a stale takeover replaced it). */
function releaseLock(path: string, token: string): void {
  const seen = readHolder(path)
  if (seen?.holder?.token === token) rmSync(path, { force: true })
}

const pause = new Int32Array(new SharedArrayBuffer(4))

/**
 * Waits for a lock held only for moments (a history merge takes milliseconds): tries every 10 ms,
 * synchronously, up to `timeoutMs`; returns the failed result if it never frees.
 */
export function lockWithin(path: string, timeoutMs: number): LockResult {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const result = tryLock(path)
    if (result.ok || Date.now() >= deadline) return result
    Atomics.wait(pause, 0, 0, 10)
  }
}
