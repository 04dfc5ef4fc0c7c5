import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { describe, expect, it } from 'vitest'
import { CLI, isAlive, tempDir, waitFor, write } from '../support/helpers.js'

const WATCHING = /^claimrun: watching \. for changes/gm

/** Every live process that runs in `dir` or names it on its command line. */
function processesIn(dir: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!pid || pid === process.pid || !isAlive(pid)) continue
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      let cwd = ''
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`)
      } catch {
        // another user's process: its cwd is not ours to read, and not ours to worry about
      }
      if (cmdline.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(pid)
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

/**
 * Nothing of the session is left running in `dir`. Waited for, not checked at once: the last run's
 * watchdog (detached; see src/watchdog/watchdog.ts) ends by itself once it has read the runner's
 * goodbye, and after a short run it may still be starting when claimrun exits.
 */
async function nothingLeftIn(dir: string): Promise<void> {
  await waitFor(() => processesIn(dir).length === 0, `no process left in ${dir} (left: ${processesIn(dir).join(', ')})`)
}

/** `claimrun run … --watch` as a subprocess, its stdout collected; killed if the test fails. */
function startWatch(dir: string, args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [CLI, 'run', ...args, '--watch'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** The tests a run ran, in the order they ended (one worker: the order they were claimed). */
const ranIn = (section: string): string[] => [...section.matchAll(/^\[\d+\/\d+\] (\w+) +worker01 +\S+ \S+ +(\S+)$/gm)].map((m) => `${m[2]} ${m[1]}`)

describe('--watch', () => {
  it('runs, waits; a changed test file reruns that test alone, and the summary still shows the whole suite; another change reruns all, last failures first; Ctrl-C ends cleanly', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.sh', 'exit 0\n')
    write(dir, 't/test_b.sh', 'exit 0\n')
    write(dir, 't/test_z.sh', 'echo "z is broken"\nexit 1\n')
    write(dir, 'lib/helper.sh', 'helper=1\n')
    const w = startWatch(dir, ['t', '-w', '1', '--no-history', '--out', 'out'])
    const sections = (): string[] => w.stdout().split(WATCHING)
    const runs = (): number => (w.stdout().match(WATCHING) ?? []).length

    // The first run: every test, in the usual order; the summary; then it waits.
    await waitFor(() => runs() === 1, `the first run and the watch line\n${w.stdout()}${w.stderr()}`, 60_000)
    expect(ranIn(sections()[0]!)).toEqual(['t/test_a.sh passed', 't/test_b.sh passed', 't/test_z.sh failed'])
    expect(sections()[0]).toMatch(/── failed: t\/test_z\.sh[\s\S]*z is broken[\s\S]*2 passed, 1 failed - 3 tests/)

    // A test file changes: that test runs, alone.
    appendFileSync(join(dir, 't/test_b.sh'), '# edited\n')
    await waitFor(() => runs() === 2, `the rerun of t/test_b.sh\n${w.stdout()}`, 60_000)
    expect(sections()[1]).toMatch(/^claimrun: changed: t\/test_b\.sh; running that test$/m)
    expect(ranIn(sections()[1]!)).toEqual(['t/test_b.sh passed'])
    // The summary counts every test's last outcome: test_z is still failing from the full run.
    expect(sections()[1]).toMatch(/── failed: t\/test_z\.sh[\s\S]*z is broken[\s\S]*^2 passed, 1 failed - 3 tests in .* on 1 worker\n[\s\S]*^claimrun: the summary above is the whole suite \(3 tests\): 1 just run, the rest as they ended before$/m)

    // Anything else changes: all tests, the one that failed last time first, then the rest in order.
    appendFileSync(join(dir, 'lib/helper.sh'), 'helper=2\n')
    await waitFor(() => runs() === 3, `the full rerun\n${w.stdout()}`, 60_000)
    expect(sections()[2]).toMatch(/^claimrun: changed: lib\/helper\.sh; running all tests, the 1 that failed first$/m)
    expect(ranIn(sections()[2]!)).toEqual(['t/test_z.sh failed', 't/test_a.sh passed', 't/test_b.sh passed'])
    // What claimrun wrote itself (the out folder) triggered nothing: the next run is the next edit's.
    appendFileSync(join(dir, 't/test_a.sh'), '# edited\n')
    await waitFor(() => runs() === 4, `the rerun of t/test_a.sh\n${w.stdout()}`, 60_000)
    expect(sections()[3]).toMatch(/^claimrun: changed: t\/test_a\.sh; running that test$/m)
    expect(ranIn(sections()[3]!)).toEqual(['t/test_a.sh passed'])

    // Ctrl-C while waiting: exit 130, no stack, nothing left running.
    w.child.kill('SIGINT')
    const { code, signal } = await w.exited
    expect({ code, signal }).toEqual({ code: 130, signal: null })
    expect(w.stderr()).not.toMatch(/\n\s+at /)
    expect(runs()).toBe(4)
    expect(isAlive(w.child.pid!)).toBe(false)
    await nothingLeftIn(dir)
  })

  it('on a terminal, keys: f runs the failed tests, a runs all, q quits with the suite\'s last outcome (a passing rerun of one test leaves the others\' failures)', async () => {
    const dir = tempDir()
    write(dir, 't/test_ok.sh', 'exit 0\n')
    write(dir, 't/test_bad.sh', 'exit 1\n')
    // script(1) gives claimrun a terminal; what we write to script's stdin arrives as keystrokes.
    const command = `stty rows 40 cols 120; exec ${process.execPath} ${CLI} run t --watch -w 1 --no-history --out out`
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] })
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    let screen = ''
    child.stdout.on('data', (d) => (screen += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    const prompts = (): number => (screen.match(/watching \. for changes \(a: run all, f: run failed, q: quit\)/g) ?? []).length
    await waitFor(() => prompts() === 1, `the first run\n${screen}`, 60_000)
    child.stdin.write('f')
    await waitFor(() => prompts() === 2, `the failed tests' run\n${screen}`, 60_000)
    expect(screen).toMatch(/running the test that failed[\s\S]*1 passed, 1 failed - 2 tests/)
    child.stdin.write('a')
    await waitFor(() => prompts() === 3, `the full run\n${screen}`, 60_000)
    expect(screen.slice(screen.lastIndexOf('running all tests'))).toMatch(/1 passed, 1 failed - 2 tests/)
    // A rerun of the passing test alone: the suite still has a failure, and q's exit code says so.
    appendFileSync(join(dir, 't/test_ok.sh'), '# edited\n')
    await waitFor(() => prompts() === 4, `the rerun of t/test_ok.sh\n${screen}`, 60_000)
    expect(screen.slice(screen.lastIndexOf('changed: t/test_ok.sh'))).toMatch(/1 passed, 1 failed - 2 tests/)
    child.stdin.write('q')
    expect(await exited).toBe(1)
    await nothingLeftIn(dir)
  })

  it('Ctrl-C during a rerun ends the running test and the session, exit 130; --watch refuses --ui and --store', async () => {
    const dir = tempDir()
    const started = join(dir, 'started')
    write(dir, 't/test_a.sh', 'exit 0\n')
    write(dir, 't/test_hang.sh', `[ -e '${join(dir, 'hang')}' ] || exit 0\necho $$ > '${started}'\nsleep 300\n`)
    const w = startWatch(dir, ['t', '-w', '2', '--no-history', '--out', 'out', '--kill-grace', '1'])
    await waitFor(() => (w.stdout().match(WATCHING) ?? []).length === 1, `the first run\n${w.stdout()}${w.stderr()}`, 60_000)
    write(dir, 'hang', 'now the hang test hangs\n')
    await waitFor(() => {
      try {
        return readFileSync(started, 'utf8').trim() !== ''
      } catch {
        return false
      }
    }, `the rerun to start the hanging test\n${w.stdout()}`, 60_000)
    const sleeper = Number(readFileSync(started, 'utf8'))
    w.child.kill('SIGINT')
    const { code } = await w.exited
    expect(code).toBe(130)
    expect(w.stdout()).toMatch(/^\[\d\/2\] interrupted +worker0\d .* t\/test_hang\.sh$/m)
    expect(isAlive(sleeper)).toBe(false)
    await nothingLeftIn(dir)

    for (const flag of ['--ui', '--store']) {
      const bad = startWatch(dir, ['t', ...(flag === '--store' ? [flag, 'redis://127.0.0.1:1'] : [flag])])
      const r = await bad.exited
      expect(r.code).toBe(2)
      expect(bad.stderr().trim()).toMatch(new RegExp(`^claimrun: --watch does not work with ${flag}: drop one of them`))
    }
  })
})
