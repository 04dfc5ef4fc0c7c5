import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isAlive, pidsIn, readLines, readResults, runCli, tempDir, waitFor, write } from '../support/helpers.js'
import { startRedis } from '../support/redis.js'
import { killRecordedOnFinish, overlaps, spans, startRunner, startTimeOf, stillAlive, timedSuite, watchdogsOf } from '../support/witness.js'
import { FORK_PATHS, onForkPath } from '../support/fork-path.js'

describe.each(FORK_PATHS)('when the runner dies, its tests die with it ($name)', ({ path }) => {
  onForkPath(path)
  it('a runner killed with SIGKILL: its watchdog ends every test process (grandchildren too) and leaves a note naming them', async () => {
    const dir = tempDir()
    const { pids, witness } = timedSuite(dir, 4, { hang: ['t/test_02.sh', 't/test_03.sh', 't/test_04.sh'] })
    killRecordedOnFinish(pids)
    const out = join(dir, 'out')
    const runner = startRunner(dir, ['--workers', '3', '--order', 'given', '--no-history', '--kill-grace', '2', '--out', out])
    // Three hanging tests, each with its shell and its background sleep; the quick one has finished.
    await waitFor(() => existsSync(pids) && pidsIn(pids).length === 8 && readLines(witness).filter((l) => l.startsWith('end')).length === 1, 'three tests hanging after the first one finished')
    const all = pidsIn(pids).map((pid) => [pid, startTimeOf(pid)] as const)
    runner.child.kill('SIGKILL')
    await waitFor(() => all.every(([pid, start]) => !stillAlive(pid, start)), 'every test process to be gone after the runner was killed')
    await waitFor(() => existsSync(join(out, 'runner-died.txt')), 'the watchdog note')
    const note = readFileSync(join(out, 'runner-died.txt'), 'utf8')
    expect(note).toMatch(new RegExp(`^claimrun's runner \\(pid ${runner.child.pid}\\) died at .* before it finished the run`))
    for (const id of ['t/test_02.sh', 't/test_03.sh', 't/test_04.sh']) expect(note).toContain(JSON.stringify(id))
    expect(note).not.toContain('test_01')
    // The previous results are not passed off as this run's: there is no results.json, and the note
    // says why; so does claimrun show.
    expect(existsSync(join(out, 'results.json'))).toBe(false)
    const show = await runCli(['show', out], { cwd: dir })
    expect(show.code).toBe(2)
    expect(show.stderr).toMatch(new RegExp(`^claimrun: .*results\\.json: not found: claimrun's runner \\(pid ${runner.child.pid}\\) died at \\S+ before it finished the run \\(see .*runner-died\\.txt\\)`, 'm'))
    // The hanging tests were ended by SIGTERM (their trap wrote "end"), within the grace.
    expect(spans(witness).filter((s) => s.end === null)).toEqual([])
    await waitFor(() => watchdogsOf(runner.child.pid).length === 0, 'the watchdog to exit once its note is written')
  })

  // Through the spawner the watchdog boots at the start: there is no moment before it.
  it.runIf(path === 'off')('a runner SIGKILLed before its watchdog booted (no more tests than lanes: it never needed to): the watchdog boots then, ends the tests and leaves the note', async () => {
    const dir = tempDir()
    const { pids } = timedSuite(dir, 2, { hang: ['t/test_01.sh', 't/test_02.sh'] })
    killRecordedOnFinish(pids)
    const out = join(dir, 'out')
    const runner = startRunner(dir, ['--workers', '3', '--no-history', '--kill-grace', '1', '--out', out])
    await waitFor(() => existsSync(pids) && pidsIn(pids).length === 4, 'both tests and their background sleeps to start')
    // Still the shell that waits to exec the watchdog (src/watchdog/watchdog.ts), not Node.
    const [waiting] = watchdogsOf(runner.child.pid)
    expect(readFileSync(`/proc/${waiting}/cmdline`, 'latin1').split('\0')[0]).toBe('/bin/sh')
    const all = pidsIn(pids).map((pid) => [pid, startTimeOf(pid)] as const)
    runner.child.kill('SIGKILL')
    await waitFor(() => all.every(([pid, start]) => !stillAlive(pid, start)), 'every test process to be gone after the runner was killed')
    await waitFor(() => existsSync(join(out, 'runner-died.txt')), 'the watchdog note')
    const note = readFileSync(join(out, 'runner-died.txt'), 'utf8')
    // Both groups were told through the pipe while the shell waited, and read once it booted.
    for (const id of ['t/test_01.sh', 't/test_02.sh']) expect(note).toMatch(new RegExp(`^  ${JSON.stringify(id).replace(/[.]/g, '\\.')} \\(process group \\d+\\)$`, 'm'))
    await waitFor(() => watchdogsOf(runner.child.pid).length === 0, 'the watchdog to exit once its note is written')
  })

  it('a short run that sends more messages than the waiting watchdog\'s pipe holds (retries): the watchdog boots to read them, no lane stalls, and a SIGKILLed runner still takes the hanging test along', async () => {
    const dir = tempDir()
    const pids = join(dir, 'pids')
    const attempts = join(dir, 'attempts')
    killRecordedOnFinish(pids)
    // No more tests than lanes, so nothing else boots the watchdog: 2 tests × 101 attempts send
    // ~400 start and end messages, past the ~278 a socket pair holds unread (1 s of stall each before).
    for (const name of ['test_a.sh', 'test_b.sh']) write(dir, `t/${name}`, `echo "$$" >> ${JSON.stringify(pids)}\necho x >> ${JSON.stringify(attempts)}\nexit 1\n`)
    const hangingPid = join(dir, 'hanging-pid')
    write(dir, 't/test_c.sh', `echo "$$" >> ${JSON.stringify(pids)}\necho "$$" > ${JSON.stringify(hangingPid)}\nwhile :; do sleep 1; done\n`)
    const out = join(dir, 'out')
    const runner = startRunner(dir, ['--workers', '3', '--order', 'given', '--no-history', '--retries', '100', '--kill-grace', '1', '--out', out])
    await waitFor(() => existsSync(attempts) && readLines(attempts).length === 202, 'both failing tests to have run all 101 attempts', 60_000)
    await waitFor(() => {
      const [watchdog] = watchdogsOf(runner.child.pid)
      return watchdog !== undefined && readFileSync(`/proc/${watchdog}/cmdline`, 'latin1').split('\0')[0] !== '/bin/sh'
    }, 'the watchdog to have booted Node')
    const [hanging] = pidsIn(hangingPid)
    expect(hanging && isAlive(hanging)).toBe(true)
    const hangingStart = startTimeOf(hanging as number)
    runner.child.kill('SIGKILL')
    await waitFor(() => !stillAlive(hanging as number, hangingStart), 'the hanging test to be ended after the runner was killed')
    await waitFor(() => existsSync(join(out, 'runner-died.txt')), 'the watchdog note')
    expect(readFileSync(join(out, 'runner-died.txt'), 'utf8')).toMatch(/^ {2}"t\/test_c\.sh" \(process group \d+\)$/m)
    await waitFor(() => watchdogsOf(runner.child.pid).length === 0, 'the watchdog to exit once its note is written')
  })

  it('a test that starts a process outside its group (setsid): on the runner\'s death the watchdog finds it by its environment', async () => {
    const dir = tempDir()
    const out = join(dir, 'out')
    const pids = join(dir, 'pids')
    write(dir, 't/test_escape.sh', `setsid sleep 300 </dev/null >/dev/null 2>&1 &\necho $! >> '${pids}'\necho $$ >> '${pids}'\nexec sleep 300\n`)
    killRecordedOnFinish(pids)
    const runner = startRunner(dir, ['--no-history', '--kill-grace', '1', '--out', out])
    await waitFor(() => existsSync(pids) && pidsIn(pids).length === 2, 'the test and its escaped child to start')
    const all = pidsIn(pids).map((pid) => [pid, startTimeOf(pid)] as const)
    runner.child.kill('SIGKILL')
    await waitFor(() => all.every(([pid, start]) => !stillAlive(pid, start)), 'the test and the process it moved out of its group to be gone')
    await waitFor(() => existsSync(join(out, 'runner-died.txt')), 'the watchdog note')
    expect(readFileSync(join(out, 'runner-died.txt'), 'utf8')).toMatch(/^ {2}"t\/test_escape\.sh" \(1 process in group \d+, found by their environment\)$/m)
  })

  it('a run that ends normally: the watchdog leaves quietly, no note, no process left', async () => {
    const dir = tempDir()
    const { pids } = timedSuite(dir, 2)
    killRecordedOnFinish(pids)
    const out = join(dir, 'out')
    const runner = startRunner(dir, ['--no-history', '--out', out])
    expect(await runner.exited).toBe(0)
    await waitFor(() => watchdogsOf(runner.child.pid).length === 0, 'the watchdog to exit')
    expect(existsSync(join(out, 'runner-died.txt'))).toBe(false)
    expect(readResults(out).counts.passed).toBe(2)
  })
})

describe.each(FORK_PATHS)('a shared run: a test never runs on two nodes at once, however a runner fails ($name)', ({ path }) => {
  onForkPath(path)
  it('a runner SIGKILLed mid-test: its watchdog ends the test, and only then (the lease lapsed) does the other node run it', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const { witness, pids } = timedSuite(dir, 4, { hang: ['t/test_01.sh'] })
    killRecordedOnFinish(pids)
    const common = ['--store', url, '--run-id', 'k1', '--lease', '3', '--kill-grace', '1', '--order', 'given', '--no-history']
    const doomed = startRunner(dir, [...common, '--node', 'doomed', '--workers', '1', '--out', join(dir, 'out-a')])
    await waitFor(() => existsSync(witness) && spans(witness).some((s) => s.id === 't/test_01.sh'), 'the doomed node to start its test')
    const survivor = startRunner(dir, [...common, '--node', 'survivor', '--workers', '2', '--out', join(dir, 'out-b')])
    doomed.child.kill('SIGKILL')
    expect(await survivor.exited).toBe(0)
    const runs = spans(witness).filter((s) => s.id === 't/test_01.sh')
    expect(runs.map((s) => s.worker.split('/')[0])).toEqual(['doomed', 'survivor'])
    expect(overlaps(spans(witness))).toEqual([])
    await waitFor(() => !isAlive(runs[0]!.pid), 'the killed node\'s test process to be gone')
  })

  it('a runner SIGSTOPped mid-test (it cannot renew or act): its watchdog fences the test before the lease can pass', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const { witness, pids } = timedSuite(dir, 3, { hang: ['t/test_01.sh'] })
    killRecordedOnFinish(pids)
    const common = ['--store', url, '--run-id', 'k2', '--lease', '3', '--order', 'given', '--no-history']
    const frozen = startRunner(dir, [...common, '--node', 'frozen', '--workers', '1', '--out', join(dir, 'out-a')])
    await waitFor(() => existsSync(witness) && spans(witness).some((s) => s.id === 't/test_01.sh'), 'the frozen node to start its test')
    frozen.child.kill('SIGSTOP')
    const other = startRunner(dir, [...common, '--node', 'other', '--workers', '2', '--out', join(dir, 'out-b')])
    expect(await other.exited).toBe(0)
    const runs = spans(witness).filter((s) => s.id === 't/test_01.sh')
    expect(runs.map((s) => s.worker.split('/')[0])).toEqual(['frozen', 'other'])
    expect(runs[0]!.end).not.toBeNull() // ended by the fence (SIGTERM), while its runner was stopped
    expect(overlaps(spans(witness))).toEqual([])
  })
})
