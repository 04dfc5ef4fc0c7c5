import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { onTestFinished } from 'vitest'
import { CLI, isAlive, readLines, write } from './helpers.js'

/**
 * Tests that leave a witness of when they ran: "start <id> <worker> <pid> <ns>" when they begin and
 * "end …" when they end (normally, or on SIGTERM, which they trap). `seconds` is how long each
 * sleeps; `hang` lists tests that sleep for a long time on their first attempt. The sleep runs
 * in the background (and its pid is recorded too) so that a trapped SIGTERM is handled at once.
 */
export function timedSuite(dir: string, count: number, { seconds = 0.05, hang = [] as string[] } = {}): { witness: string; pids: string; ids: string[] } {
  const witness = join(dir, 'witness')
  const pids = join(dir, 'pids')
  const ids: string[] = []
  for (let i = 1; i <= count; i++) {
    const id = `t/test_${String(i).padStart(2, '0')}.sh`
    ids.push(id)
    const line = (what: string): string => `echo "${what} $CLAIMRUN_TEST $CLAIMRUN_WORKER $$ $(date +%s%N)" >> '${witness}'`
    const duration = hang.includes(id) ? `$([ "$CLAIMRUN_ATTEMPT" = 1 ] && echo 300 || echo ${seconds})` : String(seconds)
    write(dir, id, [
      // Not to the runner's pipes: once a runner is dead, a write there (even the shell's own
      // "Terminated" notice) would end the test by SIGPIPE before it could record its end.
      'exec >/dev/null 2>&1',
      line('start'),
      `trap '${line('end').replace(/'/g, `'\\''`)}; exit 143' TERM`,
      `sleep ${duration} &`,
      `echo $$ >> '${pids}'; echo $! >> '${pids}'`,
      'wait $!',
      line('end'),
    ].join('\n') + '\n')
  }
  return { witness, pids, ids }
}

export interface Span {
  id: string
  worker: string
  pid: number
  start: number
  /** ms; null if the test never said it ended (it was SIGKILLed, or still runs). */
  end: number | null
}

/** Every run of every test the witness saw, in start order. */
export function spans(witness: string): Span[] {
  const all: Span[] = []
  for (const line of readLines(witness)) {
    const [what, id = '', worker = '', pid = '0', ns = '0'] = line.split(' ')
    const at = Number(BigInt(ns) / 1000n) / 1000
    if (what === 'start') all.push({ id, worker, pid: Number(pid), start: at, end: null })
    else {
      const span = all.find((s) => s.pid === Number(pid) && s.id === id)
      if (span) span.end = at
    }
  }
  return all.sort((a, b) => a.start - b.start)
}

/** Pairs of runs of one test that overlapped in time (or where the earlier one never said it ended). */
export function overlaps(all: Span[]): string[] {
  const found: string[] = []
  const byId = new Map<string, Span[]>()
  for (const s of all) byId.set(s.id, [...(byId.get(s.id) ?? []), s])
  for (const [id, runs] of byId) {
    for (let i = 1; i < runs.length; i++) {
      const before = runs[i - 1] as Span
      const after = runs[i] as Span
      if (before.end === null || before.end > after.start) found.push(`${id}: ${before.worker} until ${before.end ?? 'never ended'}, ${after.worker} from ${after.start}`)
    }
  }
  return found
}

/** The real CLI, `claimrun run t …`, as a child that the test can signal; killed when the test ends. */
export function startRunner(dir: string, args: string[]): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, [CLI, 'run', 't', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  let out = ''
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  onTestFinished(async () => {
    const watchdogs = watchdogsOf(child.pid)
    child.kill('SIGKILL') // works on a stopped process too
    // A killed runner's watchdog ends what it ran and writes its note into the out folder: waited for
    // (at most 20 s), so that the test's folder is removed after that write, not during it (ENOTEMPTY).
    for (const until = Date.now() + 20_000; watchdogs.some(isAlive) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20))
  })
  return { child, exited, output: () => out }
}

/**
 * Pids of live (not zombie) processes for which `matches(pid)` holds; a process that exits, or that
 * is not ours to read, while it is looked at is left out.
 */
export function livePids(matches: (pid: string) => boolean): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue
      if (matches(name)) found.push(Number(name))
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found
}

/** Pids of live processes whose command line contains `needle` (to find a run's watchdog). */
export const processesWith = (needle: string): number[] =>
  // Arguments are NUL-separated in /proc: joined with spaces, as a needle spells them.
  livePids((pid) => readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').includes(needle))

/** The watchdog process of the runner with this pid (its arguments hold the runner's pid and token), while it lives. */
export function watchdogsOf(runnerPid: number | undefined): number[] {
  const mine = new Set(processesWith(` ${runnerPid} ${runnerPid}-`))
  // The bundle (watchdog-process.cjs) in a full build, the module (watchdog-process.js) in a tsc-only one.
  return [...processesWith('watchdog-process.cjs '), ...processesWith('watchdog-process.js ')].filter((pid) => mine.has(pid))
}

function procStat(pid: number): { state: string; pgrp: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) }
  } catch {
    return null
  }
}

/**
 * When the test ends, however it ends, SIGKILLs every process of this test's suite that is still
 * alive (a test's shell, named by its path in `dir`, and what runs in its process group). Pids are
 * reused, and fast while the whole suite runs, so a recorded pid alone is never signalled.
 */
export function killRecordedOnFinish(pidsFile: string, dir = dirname(pidsFile)): void {
  onTestFinished(() => {
    let recorded: number[] = []
    try {
      recorded = readLines(pidsFile).map(Number).filter((n) => n > 0)
    } catch {
      return // no test started
    }
    const shells = new Set(recorded.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(dir)
      } catch {
        return false
      }
    }))
    for (const pid of recorded) {
      const stat = procStat(pid)
      const ours = shells.has(pid) || shells.has(stat?.pgrp ?? 0) || (recorded.includes(stat?.pgrp ?? 0) && readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('sleep'))
      if (!stat || stat.state === 'Z' || !ours) continue
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone meanwhile
      }
    }
  })
}

/** When a process started (clock ticks since boot): with the pid, it names one process, reuse or not. */
export function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

/** Whether the process that had this pid and start time is still alive (not a zombie). */
export function stillAlive(pid: number, startTime: string | null): boolean {
  const stat = procStat(pid)
  return stat !== null && stat.state !== 'Z' && startTime !== null && startTimeOf(pid) === startTime
}
