/**
 * The watchdog: a small process started beside each run (see watchdog.ts). It reads what the
 * runner tells it on stdin and does one thing: when the runner is gone (stdin closes without a
 * `bye`) it ends every test process group still alive, SIGTERM then SIGKILL after the kill grace,
 * and leaves a note in the out folder. In a shared run it also enforces the runner's fence: a
 * group whose lease the runner has not confirmed in time is ended, even if the runner hangs.
 *
 * Started detached (its own session), so a terminal's Ctrl-C or hang-up and a signal to the
 * runner's process group reach the runner, never the watchdog. It imports only its spawner, the
 * socket's wire format and the /proc scan (Node built-ins below them), so it starts about as fast
 * as node can.
 *
 * On Linux every process of the run is known by the token in its environment (CLAIMRUN_WATCHDOG,
 * which every test and all it starts inherit). The watchdog signals a group only while it still
 * holds such a process (group ids are reused), and also ends the run's processes outside the groups
 * it was told about: a child that left its group with setsid, or a test that started in the
 * instant before the runner died. Elsewhere it goes by the groups alone.
 *
 * It is also the run's spawner (spawn-server.ts): given a socket path, it starts the tests the
 * worker threads ask it to, and guards each one from the moment it forks it.
 *
 * argv: <out folder> <kill grace ms> <runner pid> <token> [<socket path>]
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { processesWithEnv } from '../util/process-group.js'
import { monotonicMs, sleep } from '../util/time.js'
import { serveSpawns } from './spawn-server.js'
import type { WatchdogMessage } from './watchdog-wire.js'
import { trace, traceNodeTiming } from '../util/trace.js'

traceNodeTiming()
trace('watchdog: loaded')

const [out = '.', graceArg = '5000', runnerPid = '?', token = '', socketPath] = process.argv.slice(2)
const killGraceMs = Number(graceArg)
const groups = new Map<number, string>()
if (socketPath && token) {
  serveSpawns(socketPath, token, groups)
  // The socket's private folder (made by the runner for this run) goes with us, however the run ended.
  process.on('exit', () => rmSync(dirname(socketPath), { recursive: true, force: true }))
}
let said = false
let fenceTimer: NodeJS.Timeout | undefined

// A terminal's signals are for the runner; the watchdog waits for the pipe.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGQUIT'] as const) process.on(signal, () => {})


/** A target is a process group (negative, as kill(2) takes it) or a single process (positive). */
function alive(target: number): boolean {
  try {
    process.kill(target, 0)
    return true
  } catch {
    return false
  }
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig)
  } catch {
    // gone already
  }
}

/**
 * The run's live processes (pid → process group): every process whose environment carries this
 * run's token. Null where /proc cannot tell (not Linux, or no token).
 */
function processesOfRun(): Map<number, { pgrp: number; test: string }> | null {
  if (!token || process.platform !== 'linux') return null
  const found = new Map<number, { pgrp: number; test: string }>()
  for (const { pid, pgrp, environ } of processesWithEnv([`CLAIMRUN_WATCHDOG=${token}`])) {
    const test = environ.toString('utf8').split('\0').find((v) => v.startsWith('CLAIMRUN_TEST='))?.slice(14) ?? '?'
    found.set(pid, { pgrp, test })
  }
  return found
}

/**
 * What to end now: each known group that still holds a process of this run (a group id reused by a
 * stranger's processes since holds none, and is left alone), and each process of the run outside
 * those groups (a test whose group we were not told in time, or a child that left it with setsid).
 */
function targets(): { groups: number[]; strays: Array<{ pid: number; pgrp: number; test: string }> } {
  const known = [...groups.keys()]
  const run = processesOfRun()
  if (!run) return { groups: known, strays: [] }
  const held = new Set([...run.values()].map((p) => p.pgrp))
  return {
    groups: known.filter((pgid) => held.has(pgid)),
    strays: [...run].filter(([, p]) => !groups.has(p.pgrp)).map(([pid, p]) => ({ pid, ...p })),
  }
}

/** SIGTERM to every target, SIGKILL to what is left after the grace. Resolves when none is alive. */
async function endAll(targets: number[], graceMs: number): Promise<void> {
  let left = targets.filter(alive)
  for (const target of left) signal(target, 'SIGTERM')
  const deadline = monotonicMs() + graceMs
  while (left.length > 0 && monotonicMs() < deadline) {
    await sleep(Math.min(20, Math.max(1, deadline - monotonicMs())))
    left = left.filter(alive)
  }
  for (let i = 0; i < 50 && left.length > 0; i++) {
    for (const target of left) signal(target, 'SIGKILL')
    await sleep(20)
    left = left.filter(alive)
  }
}

function handle(message: WatchdogMessage): void {
  if (message.t === 'start') groups.set(message.pgid, message.id)
  else if (message.t === 'end') groups.delete(message.pgid)
  else if (message.t === 'bye') said = true
  else if (message.t === 'fence') {
    clearTimeout(fenceTimer)
    if (message.by === null) return
    const { graceMs } = message
    fenceTimer = setTimeout(() => {
      // Every test of a shared run holds a lease: past the fence, all of them end, told or found.
      const now = targets()
      void endAll([...now.groups.map((pgid) => -pgid), ...now.strays.map((p) => p.pid)], graceMs)
    }, Math.max(0, message.by - monotonicMs()))
  }
}

/**
 * Whether the out folder is still our run's: its lock names our runner (or is gone). The lock
 * names this watchdog too, so no other run takes the folder while it lives; should one have taken
 * it all the same (the runner died before the lock named us), the note would describe this run
 * beside that one's results, and is not written.
 */
function folderStillOurs(): boolean {
  try {
    return (JSON.parse(readFileSync(join(out, '.claimrun-lock'), 'utf8')) as { pid?: unknown }).pid === Number(runnerPid)
  } catch {
    return true
  }
}

async function runnerGone(): Promise<void> {
  clearTimeout(fenceTimer)
  if (said) return
  const at = new Date().toISOString()
  const { groups: alive, strays } = targets()
  const running = alive.map((pgid) => `  ${JSON.stringify(groups.get(pgid) ?? '?')} (process group ${pgid})`)
  // Processes found only by their environment, by the group they are in now.
  const strayGroups = new Map<number, { test: string; count: number }>()
  for (const p of strays) strayGroups.set(p.pgrp, { test: p.test, count: (strayGroups.get(p.pgrp)?.count ?? 0) + 1 })
  for (const [pgrp, { test, count }] of strayGroups) running.push(`  ${JSON.stringify(test)} (${count} ${count === 1 ? 'process' : 'processes'} in group ${pgrp}, found by their environment)`)
  await endAll([...alive.map((pgid) => -pgid), ...strays.map((p) => p.pid)], killGraceMs)
  const lines = [
    `claimrun's runner (pid ${runnerPid}) died at ${at} before it finished the run, so results.json, summary.txt and report.html were not written.`,
    running.length > 0
      ? `Its watchdog ended what it was running (SIGTERM, then SIGKILL after ${killGraceMs} ms):`
      : 'No test was running at that moment.',
    ...running,
    'What had finished is in the worker logs (workerNN.log) of this folder.',
    '',
  ]
  if (!folderStillOurs()) return
  try {
    const file = join(out, 'runner-died.txt')
    writeFileSync(`${file}.${process.pid}.claimrun-tmp`, lines.join('\n'))
    renameSync(`${file}.${process.pid}.claimrun-tmp`, file)
  } catch {
    // The out folder is gone: nothing left to tell.
  }
}

let buffered = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk: string) => {
  buffered += chunk
  let nl: number
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl)
    buffered = buffered.slice(nl + 1)
    try {
      handle(JSON.parse(line) as WatchdogMessage)
    } catch {
      // Not ours: ignore rather than die and leave the tests unguarded.
    }
  }
})
process.stdin.on('end', () => void runnerGone().then(() => process.exit(0)))
process.stdin.on('error', () => void runnerGone().then(() => process.exit(0)))
