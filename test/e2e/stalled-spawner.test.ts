import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { isAlive, pidsIn, readLines, readResults, tempDir, waitFor, write } from '../support/helpers.js'
import { onForkPath } from '../support/fork-path.js'
import { startRedis } from '../support/redis.js'
import { killRecordedOnFinish, startRunner, watchdogsOf } from '../support/witness.js'

/** Stops the runner's watchdog (the spawner), as a debugger or an exec blocked on a network mount would; resumed when the test ends. */
async function stopSpawner(runnerPid: number | undefined): Promise<number> {
  await waitFor(() => watchdogsOf(runnerPid).length === 1, 'the watchdog to boot')
  const [pid] = watchdogsOf(runnerPid) as [number]
  process.kill(pid, 'SIGSTOP')
  onTestFinished(() => {
    try {
      process.kill(pid, 'SIGCONT')
    } catch {
      // gone already
    }
  })
  return pid
}

/** A test that records its pid, says it started, then sleeps until it is ended (or its folder goes). */
const hanging = (dir: string): string =>
  `echo $$ >> '${join(dir, 'pids')}'\ntouch '${join(dir, 'started')}'\nwhile [ -d '${dir}' ]; do sleep 0.1; done\n`

/** A test that records which process forked it. */
const recordParent = (dir: string): string =>
  `printf '%s %s\\n' "$CLAIMRUN_TEST" "$(tr '\\0' ' ' < /proc/$PPID/cmdline)" >> '${join(dir, 'parents')}'\n`

describe.runIf(process.platform === 'linux')('a stalled spawner: the lanes stop waiting on it and fork their tests themselves', () => {
  onForkPath('always')

  it('--timeout still times out a test the stopped spawner forked, and the tests after it pass, forked by their lane', async () => {
    const dir = tempDir()
    killRecordedOnFinish(join(dir, 'pids'))
    write(dir, 't/test_1.sh', hanging(dir))
    for (const i of [2, 3, 4]) write(dir, `t/test_${i}.sh`, recordParent(dir))
    const runner = startRunner(dir, ['--workers', '1', '--order', 'given', '--timeout', '3s', '--kill-grace', '1s', '--no-history', '--out', join(dir, 'out')])
    await waitFor(() => existsSync(join(dir, 'started')), 'test_1 to start')
    await stopSpawner(runner.child.pid)
    expect(await runner.exited).toBe(1)
    const byId = new Map(readResults(join(dir, 'out')).tests.map((t) => [t.id, t]))
    expect(byId.get('t/test_1.sh')?.status).toBe('timedout')
    for (const id of ['t/test_2.sh', 't/test_3.sh', 't/test_4.sh']) expect(byId.get(id)?.status, id).toBe('passed')
    const parents = readLines(join(dir, 'parents'))
    expect(parents).toHaveLength(3)
    for (const line of parents) expect(line).toMatch(/bin\.c?js run /)
    for (const pid of pidsIn(join(dir, 'pids'))) expect(isAlive(pid)).toBe(false)
  })

  it('SIGTERM ends the run with 143 and leaves nothing running while the spawner is stopped', async () => {
    const dir = tempDir()
    killRecordedOnFinish(join(dir, 'pids'))
    write(dir, 't/test_1.sh', hanging(dir))
    write(dir, 't/test_2.sh', 'exit 0\n')
    const runner = startRunner(dir, ['--workers', '1', '--order', 'given', '--kill-grace', '1s', '--no-history', '--out', join(dir, 'out')])
    await waitFor(() => existsSync(join(dir, 'started')), 'test_1 to start')
    await stopSpawner(runner.child.pid)
    runner.child.kill('SIGTERM')
    expect(await runner.exited).toBe(143)
    for (const pid of pidsIn(join(dir, 'pids'))) expect(isAlive(pid)).toBe(false)
  })

  it('a stop while a lane waits for a stopped spawner to answer: the test it claimed is notrun, never started', async () => {
    const dir = tempDir()
    const gate = join(dir, 'gate')
    write(dir, 'setup.sh', `touch '${join(dir, 'setup-started')}'\nwhile [ ! -e '${gate}' ] && [ -d '${dir}' ]; do sleep 0.02; done\n`)
    write(dir, 't/test_1.sh', `touch '${join(dir, 'ran')}'\n`)
    // The lane says on stderr (CLAIMRUN_TRACE) when it has its task: from then on it claims and waits.
    const traced = process.env.CLAIMRUN_TRACE
    process.env.CLAIMRUN_TRACE = '1'
    onTestFinished(() => {
      if (traced === undefined) delete process.env.CLAIMRUN_TRACE
      else process.env.CLAIMRUN_TRACE = traced
    })
    const runner = startRunner(dir, ['--workers', '1', '--setup', `sh ${join(dir, 'setup.sh')}`, '--no-history', '--out', join(dir, 'out')])
    await waitFor(() => existsSync(join(dir, 'setup-started')), 'the setup to start (the watchdog is up)')
    await stopSpawner(runner.child.pid)
    write(dir, 'gate', '')
    await waitFor(() => /worker: task lane 1/.test(runner.output()), 'the lane to get its task')
    runner.child.kill('SIGTERM')
    expect(await runner.exited).toBe(143)
    expect(readResults(join(dir, 'out')).tests.map((t) => [t.id, t.status])).toEqual([['t/test_1.sh', 'notrun']])
    expect(existsSync(join(dir, 'ran'))).toBe(false)
  })

  it('a shared run: a node whose spawner stopped does not hold a test for ever (its lease renewed): the test ends as an error and the run finishes', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const gate = join(dir, 'gate')
    killRecordedOnFinish(join(dir, 'pids'))
    // It ends once let go, while the spawner is stopped: nothing can tell its exit to the lane.
    write(dir, 't/test_1.sh', `echo $$ >> '${join(dir, 'pids')}'\ntouch '${join(dir, 'started')}'\nwhile [ ! -e '${gate}' ] && [ -d '${dir}' ]; do sleep 0.02; done\n`)
    for (const i of [2, 3]) write(dir, `t/test_${i}.sh`, 'exit 0\n')
    const common = ['--store', url, '--run-id', 'stall', '--lease', '3', '--order', 'given', '--no-history', '--workers', '1']
    const stuck = startRunner(dir, [...common, '--node', 'stuck', '--out', join(dir, 'out-a')])
    await waitFor(() => existsSync(join(dir, 'started')), 'test_1 to start')
    await stopSpawner(stuck.child.pid)
    write(dir, 'gate', '')
    const other = startRunner(dir, [...common, '--node', 'other', '--out', join(dir, 'out-b')])
    // Each node's exit code is its own tests': the other node ran only passes.
    expect([await stuck.exited, await other.exited]).toEqual([1, 0])
    const first = readResults(join(dir, 'out-a')).tests.find((t) => t.id === 't/test_1.sh')
    expect(first?.status).toBe('error')
    expect(String(first?.error)).toMatch(/spawner .* did not answer within/)
    for (const out of ['out-a', 'out-b']) for (const t of readResults(join(dir, out)).tests) if (t.id !== 't/test_1.sh') expect(t.status, t.id).toBe('passed')
  })
})
