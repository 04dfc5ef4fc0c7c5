import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CLI, isAlive, pidsIn, readLines, readResults, tempDir, waitFor, write } from '../support/helpers.js'

/** Starts the real CLI with piped stdout and stderr; the test may close either pipe's reading end. */
function startCli(args: string[], cwd: string) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return { child, exited, stdout: () => stdout, stderr: () => stderr }
}

/** Four tests that record their pid and a grandchild's, then hang; two quick ones before them. */
function hangingSuite(dir: string): { pids: string } {
  const pids = join(dir, 'pids')
  write(dir, 't/test_1.sh', 'exit 0\n')
  write(dir, 't/test_2.sh', 'exit 0\n')
  for (let i = 3; i <= 6; i++) {
    // They hang while their temp folder exists, so a failed test leaves nothing running.
    write(dir, `t/test_${i}.sh`, `sh -c 'echo $$ >> "${pids}"; while [ -d "${dir}" ]; do sleep 1; done' &\necho $$ >> '${pids}'\nwhile [ -d '${dir}' ]; do sleep 1; done\n`)
  }
  return { pids }
}

const STACK = /\n\s+at |internal error|Error:|EPIPE|EIO/

describe('SIGHUP (terminal closed, ssh dropped) is handled like SIGTERM', () => {
  it('exit 129, running tests interrupted, the rest notrun, results.json written, no test process left', async () => {
    const dir = tempDir()
    const { pids } = hangingSuite(dir)
    const out = join(dir, 'out')
    const cli = startCli(['run', 't', '--workers', '3', '--out', out, '--kill-grace', '1', '--no-history', '--order', 'given'], dir)
    await waitFor(() => existsSync(pids) && pidsIn(pids).length === 6, 'three hanging tests to start')
    cli.child.kill('SIGHUP')
    const r = await cli.exited
    expect(r.code).toBe(129)
    expect(cli.stderr()).toMatch(/^claimrun: SIGHUP: stopping; running tests get 1s to end/m)
    expect(cli.stderr()).not.toMatch(STACK)
    const results = readResults(out)
    expect(Object.fromEntries(results.tests.map((t) => [t.id, t.status]))).toEqual({
      't/test_1.sh': 'passed', 't/test_2.sh': 'passed',
      't/test_3.sh': 'interrupted', 't/test_4.sh': 'interrupted', 't/test_5.sh': 'interrupted',
      't/test_6.sh': 'notrun',
    })
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).toMatchObject({ interrupted: 'SIGHUP', exitCode: 129 })
    expect(cli.stdout()).toContain('3 interrupted, 1 not run')
    for (const pid of pidsIn(pids)) expect(isAlive(pid), `pid ${pid} survived`).toBe(false)
  })

  it('a hang-up that also takes stdout and stderr away still ends with results and nothing running', async () => {
    const dir = tempDir()
    const { pids } = hangingSuite(dir)
    const out = join(dir, 'out')
    const cli = startCli(['run', 't', '--workers', '3', '--out', out, '--kill-grace', '1', '--no-history'], dir)
    await waitFor(() => existsSync(pids) && pidsIn(pids).length === 6, 'three hanging tests to start')
    // What a closed terminal does: every later write fails (here EPIPE), and SIGHUP arrives.
    cli.child.stdout.destroy()
    cli.child.stderr.destroy()
    cli.child.kill('SIGHUP')
    const r = await cli.exited
    expect(r).toEqual({ code: 129, signal: null })
    expect(readResults(out).counts).toMatchObject({ passed: 2, interrupted: 3, notrun: 1 })
    for (const pid of pidsIn(pids)) expect(isAlive(pid), `pid ${pid} survived`).toBe(false)
  })
})

describe('stop signals and a closed output on a real terminal: the live view, then the terminal closes', () => {
  it('a pty whose other end closes (SIGHUP, then EIO on every write): exit 129, results.json, nothing left running', async () => {
    const dir = tempDir()
    const { pids } = hangingSuite(dir)
    const out = join(dir, 'out')
    // python3's pty.fork: claimrun gets a terminal of 30x100 as its controlling tty (live view on);
    // closing the master end is what closing a terminal window does.
    const driver = [
      'import os, pty, sys, fcntl, termios, struct, time',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      'fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))',
      'seen = b""',
      'while True:',
      '    try:',
      '        chunk = os.read(fd, 65536)',
      '    except OSError:',
      '        break',
      '    seen += chunk',
      '    if b"worker03" in seen and os.path.exists(sys.argv[-1] + "/ready"):',
      '        break',
      'os.close(fd)',
      '_, status = os.waitpid(pid, 0)',
      'print("live" if b"worker03" in seen else "plain", os.waitstatus_to_exitcode(status))',
    ].join('\n')
    const child = spawn('python3', ['-c', driver, process.execPath, CLI, 'run', 't', '--workers', '3', '--out', out, '--kill-grace', '1', '--no-history', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    let said = ''
    child.stdout.on('data', (d) => (said += d))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await waitFor(() => existsSync(pids) && pidsIn(pids).length === 6, 'three hanging tests to start')
    writeFileSync(join(dir, 'ready'), '')
    expect(await exited).toBe(0)
    expect(said.trim()).toBe('live 129')
    expect(readResults(out).counts).toMatchObject({ passed: 2, interrupted: 3, notrun: 1 })
    for (const pid of pidsIn(pids)) expect(isAlive(pid), `pid ${pid} survived`).toBe(false)
  })
})

describe('a closed stdout (claimrun run t | head -1) never takes the run down', () => {
  it('the run goes on to its normal end: every test runs, results.json written, no stack trace, exit code as usual', async () => {
    const dir = tempDir()
    const go = join(dir, 'go')
    const ran = join(dir, 'ran')
    // Each test waits for the go file, so every line the reporter writes comes after stdout is gone.
    for (let i = 1; i <= 8; i++) {
      write(dir, `t/test_${i}.sh`, `while [ ! -e '${go}' ] && [ -d '${dir}' ]; do sleep 0.05; done\necho "$CLAIMRUN_TEST $$" >> '${ran}'\nexit ${i === 8 ? 1 : 0}\n`)
    }
    const out = join(dir, 'out')
    const cli = startCli(['run', 't', '--workers', '2', '--out', out, '--no-history', '--no-progress'], dir)
    await waitFor(() => cli.stdout().includes('\n'), 'the first line')
    cli.child.stdout.destroy() // head -1 has read its line and exited
    writeFileSync(go, '')
    const r = await cli.exited
    expect(r).toEqual({ code: 1, signal: null })
    expect(cli.stderr()).not.toMatch(STACK)
    expect(cli.stderr()).toBe('')
    const results = readResults(out)
    expect(results.counts).toMatchObject({ passed: 7, failed: 1 })
    expect(existsSync(join(out, 'summary.txt'))).toBe(true)
    const lines = readLines(ran)
    expect(lines).toHaveLength(8)
    for (const line of lines) expect(isAlive(Number(line.split(' ')[1]))).toBe(false)
  })
})

/** Whether a process has a handler installed for a signal (the SigCgt mask in /proc/<pid>/status). */
function catches(pid: number, signal: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0'
    return (BigInt(`0x${mask}`) >> BigInt(signal - 1)) & 1n ? true : false
  } catch {
    return false
  }
}

describe('a stop signal in the first milliseconds still ends with results', () => {
  it('SIGTERM the moment claimrun can catch it: exit 143, a line, results.json with every test and none left running', async () => {
    const dir = tempDir()
    const pids = join(dir, 'pids')
    for (let i = 1; i <= 4; i++) write(dir, `t/test_${i}.sh`, `echo $$ >> '${pids}'\nwhile [ -d '${dir}' ]; do sleep 1; done\n`)
    const out = join(dir, 'out')
    const cli = startCli(['run', 't', '--workers', '2', '--out', out, '--no-history', '--kill-grace', '1'], dir)
    const pid = cli.child.pid as number
    // The handlers are armed before commander, the run's modules, discovery or the workers load.
    // Node itself catches SIGTERM from its start (to restore the terminal, then die), so the sign
    // that claimrun's handlers are in is SIGHUP's bit, which claimrun arms together with SIGTERM's.
    await waitFor(() => catches(pid, 1) || cli.child.exitCode !== null, "claimrun's signal handlers", 20_000)
    cli.child.kill('SIGTERM')
    const r = await cli.exited
    expect(r).toEqual({ code: 143, signal: null })
    expect(cli.stderr()).toMatch(/^claimrun: SIGTERM: stopping/m)
    expect(cli.stderr()).not.toMatch(STACK)
    const results = readResults(out)
    expect(results.tests.map((t) => t.id).sort()).toEqual(['t/test_1.sh', 't/test_2.sh', 't/test_3.sh', 't/test_4.sh'])
    for (const t of results.tests) expect(['notrun', 'interrupted']).toContain(t.status)
    for (const p of existsSync(pids) ? pidsIn(pids) : []) expect(isAlive(p)).toBe(false)
  })
})
