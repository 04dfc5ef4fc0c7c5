import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from 'claimrun'
import { CLI, isAlive, pidsIn, readLines, readResults, tempDir, waitFor, write } from '../support/helpers.js'
import { FORK_PATHS, onForkPath } from '../support/fork-path.js'

/** Six tests: two quick ones first, then four that start a grandchild, record both pids and hang. */
function hangingSuite(dir: string, trapTerm = false): { pids: string; started: string } {
  const pids = join(dir, 'pids')
  const started = join(dir, 'started')
  write(dir, 't/test_1.sh', 'exit 0\n')
  write(dir, 't/test_2.sh', 'exit 0\n')
  for (let i = 3; i <= 6; i++) {
    write(dir, `t/test_${i}.sh`, [
      trapTerm ? 'trap "" TERM' : '',
      `sh -c '${trapTerm ? 'trap "" TERM; ' : ''}echo $$ >> "${pids}"; while :; do sleep 1; done' &`,
      `echo $$ >> '${pids}'`,
      `echo "$CLAIMRUN_TEST" >> '${started}'`,
      'while :; do sleep 1; done',
    ].join('\n') + '\n')
  }
  return { pids, started }
}

function startCli(args: string[], cwd: string) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  )
  return { child, exited, stderr: () => stderr }
}

describe.each(FORK_PATHS)('interrupts ($name)', ({ path }) => {
  onForkPath(path)
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} to a real claimrun mid-run: exit ${code}, results.json complete, no test process left`, async () => {
      const dir = tempDir()
      const { pids, started } = hangingSuite(dir)
      const out = join(dir, 'out')
      const { child, exited } = startCli(['run', 't', '--workers', '3', '--out', out, '--kill-grace', '1'], dir)
      // Three workers: two quick tests, then three hanging ones run at once (6 pids recorded).
      await waitFor(() => existsSync(pids) && pidsIn(pids).length === 6, 'three hanging tests to start')
      child.kill(signal)
      const r = await exited
      expect(r.code).toBe(code)
      const results = readResults(out)
      expect(results.tests).toHaveLength(6)
      const status = Object.fromEntries(results.tests.map((t) => [t.id, t.status]))
      expect(status).toEqual({
        't/test_1.sh': 'passed', 't/test_2.sh': 'passed',
        't/test_3.sh': 'interrupted', 't/test_4.sh': 'interrupted', 't/test_5.sh': 'interrupted',
        't/test_6.sh': 'notrun',
      })
      expect(readLines(started)).toHaveLength(3)
      expect(r.stdout).toContain('3 interrupted, 1 not run')
      for (const pid of pidsIn(pids)) expect(isAlive(pid), `pid ${pid} survived`).toBe(false)
    })
  }

  it('a second SIGINT skips the grace period for tests that ignore SIGTERM', async () => {
    const dir = tempDir()
    const { pids } = hangingSuite(dir, true)
    const out = join(dir, 'out')
    const { child, exited, stderr } = startCli(['run', 't', '--workers', '3', '--out', out, '--kill-grace', '300'], dir)
    await waitFor(() => existsSync(pids) && pidsIn(pids).length === 6, 'three hanging tests to start')
    child.kill('SIGINT')
    // The stop has begun when its notice arrives; then the second Ctrl-C.
    await waitFor(() => stderr().includes('stopping'), 'the stop notice')
    child.kill('SIGINT')
    const r = await exited
    expect(r.code).toBe(130)
    expect(readResults(out).counts).toMatchObject({ interrupted: 3, notrun: 1, passed: 2 })
    for (const pid of pidsIn(pids)) expect(isAlive(pid)).toBe(false)
  })

  it('an aborted AbortSignal in the API stops the run the same way', async () => {
    const dir = tempDir()
    const { pids } = hangingSuite(dir)
    const controller = new AbortController()
    const pending = run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 3, killGrace: 1, signal: controller.signal })
    await waitFor(() => existsSync(pids) && pidsIn(pids).length === 6, 'three hanging tests to start')
    controller.abort()
    const result = await pending
    expect(result.interrupted).toBe('abort')
    expect(result.exitCode).toBe(130)
    expect(result.counts).toMatchObject({ passed: 2, interrupted: 3, notrun: 1 })
    for (const pid of pidsIn(pids)) expect(isAlive(pid)).toBe(false)
  })

  it('a signal already aborted: nothing runs, every test is notrun', async () => {
    const dir = tempDir()
    hangingSuite(dir)
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), signal: AbortSignal.abort() })
    expect(result.counts.notrun).toBe(6)
    expect(existsSync(join(dir, 'started'))).toBe(false)
  })
})
