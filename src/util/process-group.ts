import { readdirSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { constants as osConstants } from 'node:os'
import { sleep } from './time.js'

/**
 * Every test runs as the leader of its own process group (spawned `detached`), so signalling
 * `-pid` reaches the test and everything it started, grandchildren included, unless they left the
 * group on purpose (setsid).
 */

/**
 * kill(2) answering with an errno (0 when sent) instead of throwing: Node's own binding behind
 * process.kill, present in every Node this runs on. Checked, with process.kill as the fallback.
 */
const rawKill = (process as unknown as { _kill?: (pid: number, signal: number) => number })._kill
const SIGNALS = osConstants.signals as unknown as Record<string, number | undefined>

/** Sends `signal` to the whole group. Returns false if the group has no process left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  // The usual answer after a test exits is ESRCH (its group is gone). process.kill throws it, and
  // building that exception is a visible share of a worker's time per test (docs/design/per-test-cost.md);
  // the binding just returns it.
  if (typeof rawKill === 'function') {
    const number = signal === 0 ? 0 : SIGNALS[signal]
    if (number !== undefined) return rawKill.call(process, -pgid, number) === 0
  }
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    // ESRCH: no member left. EPERM: a member changed user; nothing more we can do from here.
    return false
  } finally {
    Error.stackTraceLimit = limit
  }
}

/**
 * Whether `pid` still names a process: false only once it is gone and reaped (ESRCH). A zombie, and
 * a process of another user (EPERM), count as there.
 */
export function processExists(pid: number): boolean {
  if (typeof rawKill === 'function') return rawKill.call(process, pid, 0) !== -osConstants.errno.ESRCH
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/**
 * The fields of /proc/<pid>/stat after the parenthesised command name (state, ppid, pgrp, …, and
 * at [19] the start time in clock ticks), or null when there is no such process or no /proc.
 */
export function procStat(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return null
  }
}

/**
 * Live (non-zombie) members of a process group. A zombie still answers `kill(-pgid, 0)` until its
 * parent reaps it, so the signal alone cannot tell "left behind" from "already dead".
 */
export function groupMembers(pgid: number): number[] {
  if (!signalGroup(pgid, 0)) return []
  if (process.platform === 'linux') {
    const members: number[] = []
    for (const name of readdirSync('/proc')) {
      if (name.charCodeAt(0) > 57) continue // not a pid folder
      const fields = procStat(name) // null: exited meanwhile
      if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(name))
    }
    return members
  }
  try {
    const out = execFileSync('ps', ['-o', 'pid=,stat=', '-g', String(pgid)], { encoding: 'utf8' })
    return out
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([pid, stat]) => pid && stat && !stat.startsWith('Z'))
      .map(([pid]) => Number(pid))
  } catch {
    return []
  }
}

/**
 * Live processes whose environment holds every one of `entries` ("KEY=value"), with their process
 * group: how a test is found when whoever forked it could not say its pid. Linux only (/proc);
 * elsewhere none are found.
 */
export function processesWithEnv(entries: string[]): Array<{ pid: number; pgrp: number; environ: Buffer }> {
  if (process.platform !== 'linux') return []
  const needles = entries.map((e) => Buffer.from(`${e}\0`))
  const found: Array<{ pid: number; pgrp: number; environ: Buffer }> = []
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) > 57) continue // not a pid folder
    try {
      const environ = readFileSync(`/proc/${name}/environ`)
      if (!needles.every((n) => environ.includes(n))) continue
      const fields = procStat(name)
      if (fields && fields[0] !== 'Z') found.push({ pid: Number(name), pgrp: Number(fields[2]), environ })
    } catch {
      // gone, or not ours to read
    }
  }
  return found
}

/**
 * Ends a process group: SIGTERM, then SIGKILL once `graceMs` has passed with members still alive.
 * Resolves when no live member is left (or shortly after SIGKILL, which cannot be refused).
 */
export async function endGroup(pgid: number, graceMs: number): Promise<void> {
  if (graceMs > 0 && signalGroup(pgid, 'SIGTERM')) {
    const deadline = Date.now() + graceMs
    while (Date.now() < deadline) {
      await sleep(Math.min(25, Math.max(1, deadline - Date.now())))
      if (groupMembers(pgid).length === 0) return
    }
  }
  for (let i = 0; i < 40 && signalGroup(pgid, 'SIGKILL'); i++) {
    if (groupMembers(pgid).length === 0) return
    await sleep(25)
  }
}
