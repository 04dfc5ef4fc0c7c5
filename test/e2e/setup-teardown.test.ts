import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CLI, isAlive, readLines, readResults, runCli, tempDir, waitFor, write } from '../support/helpers.js'

/** Three tests that log "<id> FOO=<$FOO> state=<the setup's state file>" to a shared journal. */
function suite(dir: string): string {
  const journal = join(dir, 'journal')
  for (const n of [1, 2, 3]) {
    write(dir, `t/test_${n}.sh`, `echo "$CLAIMRUN_TEST FOO=$FOO state=$(cat '${join(dir, 'state')}' 2>/dev/null || echo none)" >> '${journal}'\n`)
  }
  return journal
}

function startCli(args: string[], cwd: string) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.resume()
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })))
  return { child, exited }
}

describe('--setup, --teardown and --env', () => {
  it('setup once before the first test, teardown once after the last, --env in every test, output in setup.log/teardown.log', async () => {
    const dir = tempDir()
    const journal = suite(dir)
    const out = join(dir, 'out')
    const r = await runCli([
      'run', 't', '--out', out, '--no-history', '--workers', '3',
      '--setup', `sh -c "echo setup >> '${journal}'; echo ready > state; echo setting up"`,
      '--teardown', `sh -c "echo teardown >> '${journal}'; rm state; echo tearing down >&2"`,
      '--env', 'FOO=bar baz', '--env', 'UNUSED=1',
    ], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    const lines = readLines(journal)
    expect(lines[0]).toBe('setup')
    expect(lines.at(-1)).toBe('teardown')
    expect(lines.slice(1, -1).sort()).toEqual([1, 2, 3].map((n) => `t/test_${n}.sh FOO=bar baz state=ready`))
    expect(existsSync(join(dir, 'state'))).toBe(false)
    expect(readFileSync(join(out, 'setup.log'), 'utf8')).toMatch(/^claimrun setup: \["sh","-c",.*\]\nsetting up\n$/)
    expect(readFileSync(join(out, 'teardown.log'), 'utf8')).toMatch(/\ntearing down\n$/)
    const results = readResults(out) as ReturnType<typeof readResults> & { setup: { status: string; log: string }; teardown: { status: string } }
    expect(results.setup).toMatchObject({ status: 'passed', exitCode: 0, log: 'setup.log' })
    expect(results.teardown).toMatchObject({ status: 'passed', exitCode: 0, log: 'teardown.log' })
  })

  it('a failed setup: no test runs, every test is notrun, the teardown still runs, one line and exit 2', async () => {
    const dir = tempDir()
    const journal = suite(dir)
    const out = join(dir, 'out')
    const r = await runCli([
      'run', 't', '--out', out, '--no-history',
      '--setup', `sh -c "echo cannot start the database; exit 4"`,
      '--teardown', `sh -c "echo teardown >> '${journal}'"`,
    ], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toEqual([
      `claimrun: --setup "sh -c 'echo cannot start the database; exit 4'" failed (exit 4), so no test was run (all notrun); its output is in out/setup.log`,
    ])
    expect(readLines(journal)).toEqual(['teardown'])
    expect(readFileSync(join(out, 'setup.log'), 'utf8')).toContain('cannot start the database')
    const results = readResults(out)
    expect(results.tests.map((t) => t.status)).toEqual(['notrun', 'notrun', 'notrun'])
    expect(results).toMatchObject({ exitCode: 2, setup: { status: 'failed', exitCode: 4 }, teardown: { status: 'passed' } })
  })

  it('a setup that cannot start: "not found", exit 2', async () => {
    const dir = tempDir()
    suite(dir)
    const r = await runCli(['run', 't', '--out', join(dir, 'out'), '--setup', 'no-such-command-claimrun --now'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^claimrun: --setup "no-such-command-claimrun --now" failed \(no-such-command-claimrun: not found \(ENOENT\)\), so no test was run/)
  })

  it('Ctrl-C during the setup ends it, runs no test, and still tears down (exit 130)', async () => {
    const dir = tempDir()
    const journal = suite(dir)
    const out = join(dir, 'out')
    const pidFile = join(dir, 'setup.pid')
    const { child, exited } = startCli([
      'run', 't', '--out', out, '--no-history', '--kill-grace', '1',
      '--setup', `sh -c "echo \\$\\$ > '${pidFile}'; exec sleep 300"`,
      '--teardown', `sh -c "echo teardown >> '${journal}'"`,
    ], dir)
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 'the setup to start')
    const setupPid = Number(readFileSync(pidFile, 'utf8'))
    child.kill('SIGINT')
    const r = await exited
    expect(r.code).toBe(130)
    expect(isAlive(setupPid)).toBe(false)
    expect(readLines(journal)).toEqual(['teardown'])
    const results = readResults(out)
    expect(results.tests.map((t) => t.status)).toEqual(['notrun', 'notrun', 'notrun'])
    expect(results).toMatchObject({ setup: { status: 'interrupted' }, teardown: { status: 'passed' } })
  })

  it('Ctrl-C during the tests: the teardown runs after the running tests are ended', async () => {
    const dir = tempDir()
    const journal = join(dir, 'journal')
    const started = join(dir, 'started')
    write(dir, 't/test_hang.sh', `echo $$ > '${started}'\nwhile :; do sleep 1; done\n`)
    const out = join(dir, 'out')
    const { child, exited } = startCli(['run', 't', '--out', out, '--no-history', '--kill-grace', '1', '--teardown', `sh -c "echo teardown >> '${journal}'"`], dir)
    await waitFor(() => existsSync(started) && readFileSync(started, 'utf8').endsWith('\n'), 'the test to start')
    const testPid = Number(readFileSync(started, 'utf8'))
    child.kill('SIGINT')
    const r = await exited
    expect(r.code).toBe(130)
    expect(isAlive(testPid)).toBe(false)
    expect(readLines(journal)).toEqual(['teardown'])
    expect(readResults(out).tests.map((t) => t.status)).toEqual(['interrupted'])
  })

  it('a failed teardown is a warning line; the tests keep their outcomes', async () => {
    const dir = tempDir()
    suite(dir)
    const out = join(dir, 'out')
    const r = await runCli(['run', 't', '--out', out, '--no-history', '--no-progress', '--teardown', 'sh -c "exit 3"'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stderr.trim()).toBe(`claimrun: warning: --teardown "sh -c 'exit 3'" failed (exit 3); its output is in out/teardown.log`)
    expect(readResults(out)).toMatchObject({ exitCode: 0, teardown: { status: 'failed', exitCode: 3 } })
  })

  for (const [what, args, message] of [
    ['--env without KEY=', ['--env', 'NOEQUALS'], /^claimrun: --env must be KEY=VALUE, such as --env DATABASE_URL=postgres:\/\/localhost\/test \(received "NOEQUALS"\) \(see claimrun run --help\)$/],
    ['an empty --setup', ['--setup', ''], /^claimrun: --setup is empty: give a command such as --setup "sh scripts\/start-db\.sh" \(see claimrun run --help\)$/],
    ['a --teardown with an unclosed quote', ['--teardown', 'sh "x'], /^claimrun: --teardown has an unclosed " quote: close it, or escape it with a backslash \(see claimrun run --help\)$/],
  ] as const) {
    it(`${what}: one line, exit 2, nothing run`, async () => {
      const dir = tempDir()
      const journal = suite(dir)
      const r = await runCli(['run', 't', ...args], { cwd: dir })
      expect(r.code).toBe(2)
      expect(r.stderr.trim()).toMatch(message)
      expect(existsSync(journal)).toBe(false)
    })
  }
})
