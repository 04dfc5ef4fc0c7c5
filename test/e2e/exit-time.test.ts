import { spawn, spawnSync } from 'node:child_process'
import { closeSync, constants, existsSync, mkdtempSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { now } from '../../dist/src/util/time.js'
import { spawnTest, type Outcome } from '../../dist/workers/spawn-test.js'
import { SpawnerClient } from '../../dist/src/watchdog/spawner-client.js'
import { TestOutput, WorkerLog } from '../../dist/workers/worker-log.js'
import { ROOT, tempDir, waitFor, write } from '../support/helpers.js'

const WATCHDOG = join(ROOT, 'dist/src/watchdog/watchdog-process.js')
const TOKEN = 'exit-time-test'

/** Blocks this thread (its event loop included) for about `ms`. */
const block = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(1, ms))

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/**
 * The run's real spawner (the watchdog process, serving spawns on a socket in a folder of the test's
 * own), told goodbye and ended when the test finishes, and a lane's real connection to it.
 */
async function spawnerAndClient(dir: string): Promise<SpawnerClient> {
  const socket = join(mkdtempSync(join(dir, 's-')), 'spawn.sock')
  const watchdog = spawn(process.execPath, [WATCHDOG, dir, '1000', String(process.pid), TOKEN, socket], { stdio: ['pipe', 'ignore', 'inherit'] })
  onTestFinished(() => {
    watchdog.stdin.end('{"t":"bye"}\n')
    if (watchdog.exitCode === null) watchdog.kill('SIGKILL')
  })
  await waitFor(() => existsSync(socket), 'the spawner to listen')
  const client = new SpawnerClient(socket, TOKEN, { PATH: process.env.PATH ?? '/usr/bin:/bin' })
  onTestFinished(() => client.close())
  expect(await client.connected).toBe(true)
  return client
}

interface Attempt {
  outcome: Outcome
  /** Bounds of the test's deadline (spawnTest takes it between these two moments, plus the timeout). */
  deadlineFrom: number
  deadlineTo: number
  /** When this thread saw the test's process reaped by the spawner, and when it let its event loop go on. */
  reapedAt: number
  resumedAt: number
}

/**
 * A test run through the spawner, like a worker lane runs it, whose exit reaches the lane only after
 * its deadline although it happened before it. Once the lane has the test's pid (and so its timeout
 * timer), the lane's thread is blocked: the test is let go (a FIFO it waits on), the spawner reaps it,
 * and the thread stays blocked until the deadline has passed. When it goes on, its event loop runs the
 * due timeout before it reads the exit from the socket (libuv runs timers before polling): exactly
 * what happens when the spawner holds the exit frame (up to 3 ms) across the deadline, or the lane is
 * busy, but made certain instead of left to timing.
 */
async function exitHeardLate(client: SpawnerClient, dir: string, timeoutMs: number): Promise<Attempt> {
  const gate = join(dir, `gate-${timeoutMs}`)
  expect(spawnSync('mkfifo', [gate]).status).toBe(0)
  const script = write(dir, `t-${timeoutMs}.sh`, `read -r line < '${gate}'\nexit 0\n`)
  const log = new WorkerLog(join(dir, `worker-${timeoutMs}.log`))
  onTestFinished(() => log.close())
  let pid: number | undefined
  onTestFinished(() => {
    if (pid !== undefined && !gone(pid)) process.kill(-pid, 'SIGKILL')
  })
  let reapedAt = Infinity
  let resumedAt = 0
  const deadlineFrom = now() + timeoutMs
  const outcome = spawnTest({
    launch: client.launch,
    test: 'exits in time',
    argv: ['sh', script],
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    testEnv: {},
    timeoutMs,
    killGraceMs: 1000,
    output: new TestOutput(log, 1 << 20, '=== exits in time\n'),
    onSpawn: (p) => {
      pid = p
      // After this turn's microtasks (the timeout timer is made in one), before the loop polls again.
      setImmediate(() => {
        // Bounded, as a test that never gets there must fail, not hang the thread.
        const until = Date.now() + 20_000
        let fd = -1
        while (fd < 0 && Date.now() < until) {
          try {
            fd = openSync(gate, constants.O_WRONLY | constants.O_NONBLOCK) // ENXIO until the test has the FIFO open
          } catch {
            block(1)
          }
        }
        if (fd < 0) return
        writeSync(fd, 'go\n')
        closeSync(fd)
        while (!gone(p) && Date.now() < until) block(1)
        if (!gone(p)) return
        reapedAt = now()
        while (now() < deadlineTo + 2) block(deadlineTo + 2 - now())
        resumedAt = now()
      })
    },
  })
  const deadlineTo = now() + timeoutMs
  return { outcome: await outcome, deadlineFrom, deadlineTo, reapedAt, resumedAt }
}

describe.runIf(process.platform === 'linux')('a test\'s exit, told late by the spawner', () => {
  it('counts from when the spawner saw it: a test that exited before its timeout is not timed out, and its end is the exit\'s, not when the lane heard', async () => {
    const dir = tempDir()
    const client = await spawnerAndClient(dir)
    // The test must be seen reaped before its deadline could have passed; on a machine too slow for
    // that (nothing to judge), again with a longer timeout.
    for (const timeoutMs of [400, 1600, 6400]) {
      const { outcome, deadlineFrom, reapedAt, resumedAt } = await exitHeardLate(client, dir, timeoutMs)
      if (reapedAt >= deadlineFrom) continue
      expect(outcome.exitCode).toBe(0)
      expect(outcome.timedOut).toBe(false)
      // The spawner's observation: before the deadline, and well before the lane could hear of it.
      expect(outcome.endAt).toBeLessThan(deadlineFrom)
      expect(outcome.endAt).toBeLessThan(resumedAt)
      return
    }
    throw new Error('the test was never seen reaped before its deadline could pass, even with a 6.4 s timeout')
  })

  it('a test still running at its deadline is timed out as ever: its group gets SIGTERM, its end comes after the deadline', async () => {
    const dir = tempDir()
    const client = await spawnerAndClient(dir)
    const log = new WorkerLog(join(dir, 'worker.log'))
    onTestFinished(() => log.close())
    let pid: number | undefined
    onTestFinished(() => {
      if (pid !== undefined && !gone(pid)) process.kill(-pid, 'SIGKILL')
    })
    const deadlineFrom = now() + 300
    const outcome = await spawnTest({
      launch: client.launch,
      test: 'hangs',
      argv: ['sh', write(dir, 'hang.sh', 'exec sleep 60\n')],
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      testEnv: {},
      timeoutMs: 300,
      killGraceMs: 5000,
      output: new TestOutput(log, 1 << 20, '=== hangs\n'),
      onSpawn: (p) => void (pid = p),
    })
    expect([outcome.timedOut, outcome.signal]).toEqual([true, 'SIGTERM'])
    expect(outcome.endAt).toBeGreaterThanOrEqual(deadlineFrom)
  })
})
