import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { readableCli, readLines, readResults, runCli, startCli, tempDir, waitFor, write } from '../support/helpers.js'
import { marked } from '../support/marked.js'
import { watchdogsOf } from '../support/witness.js'

/**
 * The ways a run forks its tests, each as the CLI arguments that choose it. Every case below runs
 * once per entry: a setting that picks another fork path (the spawner process, or the lanes forking
 * their tests themselves) adds an entry here.
 */
const FORK_PATHS: Array<{ name: string; args: string[] }> = [{ name: 'the default fork path', args: [] }]

/** Fails the test (rather than hang it) if the run has not exited by then: a hang is the bug. */
function exitWithin<T>(exited: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not exit`)), ms)))
  return Promise.race([exited, late]).finally(() => clearTimeout(timer))
}

/** The pid a script wrote, once it has written it whole. */
function pidWritten(file: string): () => boolean {
  return () => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n')
}

/** "start|end <run> <id> <ns>" lines: when each copy of each test ran, by which run. */
function witnessLine(witness: string, what: string): string {
  return `echo "${what} $RUN_LABEL $CLAIMRUN_TEST $(date +%s%N)" >> '${witness}'`
}

/** Pairs of copies of one test that ran at once (or where the earlier one never said it ended). */
function overlapping(witness: string): string[] {
  const runs = new Map<string, Array<{ run: string; start: bigint; end: bigint | null }>>()
  for (const line of readLines(witness)) {
    const [what, run = '', id = '', ns = '0'] = line.split(' ')
    const copies = runs.get(id) ?? []
    runs.set(id, copies)
    if (what === 'start') copies.push({ run, start: BigInt(ns), end: null })
    else {
      const copy = copies.find((c) => c.run === run && c.end === null)
      if (copy) copy.end = BigInt(ns)
    }
  }
  const found: string[] = []
  for (const [id, copies] of runs) {
    copies.sort((a, b) => (a.start < b.start ? -1 : 1))
    for (let i = 1; i < copies.length; i++) {
      const [before, after] = [copies[i - 1], copies[i]]
      if (before && after && (before.end === null || before.end > after.start)) found.push(`${id}: ${before.run} and ${after.run}`)
    }
  }
  return found
}

/** A tmpfs of `kb` KiB mounted for this test (root only), unmounted and removed when it ends; null where it cannot be mounted. */
function smallDisk(kb: number): string | null {
  if (process.getuid?.() !== 0) return null
  const dir = mkdtempSync(join(tmpdir(), 'claimrun-disk-'))
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return null
  }
  onTestFinished(() => {
    spawnSync('umount', ['-l', dir])
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

for (const { name, args: fork } of FORK_PATHS) {
  describe(`a run on a hostile machine (${name}): every stop bounded, nothing left running, no run passed off as another`, () => {
    it('a --teardown that ignores SIGTERM, with a SIGTERM while it runs: its group is killed after --kill-grace, exit 143, nothing left running', async () => {
      const dir = tempDir()
      const mark = marked()
      write(dir, 't/test_a.sh', 'exit 0\n')
      const pidFile = join(dir, 'teardown.pid')
      write(dir, 'teardown.sh', `trap '' TERM\necho $$ > '${pidFile}'\nwhile [ -d '${dir}' ]; do sleep 0.1; done\n`)
      const out = join(dir, 'out')
      const cli = startCli(['run', 't', '--out', out, '--no-history', '--kill-grace', '1', '--teardown', `sh ${join(dir, 'teardown.sh')}`, ...fork], { cwd: dir, env: mark.env })
      await waitFor(pidWritten(pidFile), 'the teardown to start')
      cli.child.kill('SIGTERM')
      const { code } = await exitWithin(cli.exited, 'claimrun after one SIGTERM')
      expect(code).toBe(143)
      expect(mark.left()).toEqual([])
      const results = readResults(out) as ReturnType<typeof readResults> & Record<string, unknown>
      expect(results.tests.map((t) => t.status)).toEqual(['passed'])
      expect(results).toMatchObject({ interrupted: 'SIGTERM', exitCode: 143, teardown: { status: 'interrupted', signal: 'SIGKILL' } })
    })

    it('a second SIGINT during a hanging --teardown kills it at once (the grace is a minute): exit 130, never 0, nothing left running', async () => {
      const dir = tempDir()
      const mark = marked()
      write(dir, 't/test_a.sh', 'exit 0\n')
      const pidFile = join(dir, 'teardown.pid')
      write(dir, 'teardown.sh', `trap '' TERM INT\necho $$ > '${pidFile}'\nwhile [ -d '${dir}' ]; do sleep 0.1; done\n`)
      const out = join(dir, 'out')
      const cli = startCli(['run', 't', '--out', out, '--no-history', '--kill-grace', '60', '--teardown', `sh ${join(dir, 'teardown.sh')}`, ...fork], { cwd: dir, env: mark.env })
      await waitFor(pidWritten(pidFile), 'the teardown to start')
      cli.child.kill('SIGINT')
      await waitFor(() => cli.stderr().includes('SIGINT: stopping'), 'the first SIGINT to be taken')
      cli.child.kill('SIGINT')
      const { code } = await exitWithin(cli.exited, 'claimrun after a second SIGINT')
      expect(code).toBe(130)
      expect(mark.left()).toEqual([])
      expect(readResults(out)).toMatchObject({ tests: [{ status: 'passed' }], interrupted: 'SIGINT', exitCode: 130, teardown: { status: 'interrupted', signal: 'SIGKILL' } })
    })

    it('a SIGTERM during the tests, then a --teardown that hangs ignoring SIGTERM: it gets the grace, is killed, exit 143, nothing left running', async () => {
      const dir = tempDir()
      const mark = marked()
      const testPid = join(dir, 'test.pid')
      write(dir, 't/test_hang.sh', `echo $$ > '${testPid}'\nwhile [ -d '${dir}' ]; do sleep 0.1; done\n`)
      const teardownPid = join(dir, 'teardown.pid')
      write(dir, 'teardown.sh', `trap '' TERM\necho $$ > '${teardownPid}'\nwhile [ -d '${dir}' ]; do sleep 0.1; done\n`)
      const out = join(dir, 'out')
      const cli = startCli(['run', 't', '--out', out, '--no-history', '--kill-grace', '1', '--teardown', `sh ${join(dir, 'teardown.sh')}`, ...fork], { cwd: dir, env: mark.env })
      await waitFor(pidWritten(testPid), 'the test to start')
      cli.child.kill('SIGTERM')
      const { code } = await exitWithin(cli.exited, 'claimrun after one SIGTERM')
      expect(code).toBe(143)
      expect(existsSync(teardownPid)).toBe(true)
      expect(mark.left()).toEqual([])
      expect(readResults(out)).toMatchObject({ tests: [{ status: 'interrupted' }], exitCode: 143, teardown: { status: 'interrupted', signal: 'SIGKILL' } })
    })

    it('a runner SIGKILLed during --setup: its watchdog ends the setup and all it started, and its note names the setup', async () => {
      const dir = tempDir()
      const mark = marked()
      write(dir, 't/test_a.sh', 'exit 0\n')
      const pids = join(dir, 'setup.pids')
      write(dir, 'setup.sh', `sleep 300 &\necho "$$ $!" > '${pids}'\nwait\n`)
      const out = join(dir, 'out')
      const cli = startCli(['run', 't', '--out', out, '--no-history', '--kill-grace', '1', '--setup', `sh ${join(dir, 'setup.sh')}`, ...fork], { cwd: dir, env: mark.env })
      await waitFor(pidWritten(pids), 'the setup to start its background process')
      expect(mark.left().length).toBeGreaterThanOrEqual(2)
      const watchdogs = watchdogsOf(cli.child.pid)
      expect(watchdogs).toHaveLength(1)
      cli.child.kill('SIGKILL')
      await waitFor(() => mark.left().length === 0, 'the setup and its background process to be ended')
      await waitFor(() => watchdogs.every((pid) => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'latin1').includes(') Z')), 'the watchdog to exit once its note is written')
      expect(readFileSync(join(out, 'runner-died.txt'), 'utf8')).toMatch(/^ {2}"--setup" \(process group \d+\)$/m)
    })

    it('a rerun on the same --out right after a SIGKILL: it waits until the dead run\'s watchdog has ended its tests, so no test runs twice at once, and the old note is not left beside the new results', async () => {
      const dir = tempDir()
      const first = marked()
      const witness = join(dir, 'witness')
      const rerunStarted = join(dir, 'rerun-started')
      // The first run's copies hang; on SIGTERM each takes its time to end: until the rerun has
      // started a test, or 3 s (under the 4 s grace).
      for (const id of ['t/test_1.sh', 't/test_2.sh']) {
        write(dir, id, [
          'exec >/dev/null 2>&1',
          witnessLine(witness, 'start'),
          `[ "$RUN_LABEL" = rerun ] && touch '${rerunStarted}'`,
          `trap 'i=0; while [ ! -e "${rerunStarted}" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done; ${witnessLine(witness, 'end').replace(/'/g, `'\\''`)}; exit 143' TERM`,
          `if [ "$RUN_LABEL" = first ]; then sleep 300 & wait $!; fi`,
          witnessLine(witness, 'end'),
        ].join('\n') + '\n')
      }
      const out = join(dir, 'out')
      const args = ['run', 't', '--out', out, '--no-history', '--workers', '2', '--kill-grace', '4', ...fork]
      const run1 = startCli(args, { cwd: dir, env: { ...first.env, RUN_LABEL: 'first' } })
      await waitFor(() => existsSync(witness) && readLines(witness).length === 2, 'both tests of the first run to start')
      const watchdogs = watchdogsOf(run1.child.pid)
      run1.child.kill('SIGKILL')
      const rerun = await runCli(args, { cwd: dir, env: { RUN_LABEL: 'rerun' } })
      expect(rerun.code).toBe(0)
      expect(overlapping(witness)).toEqual([])
      expect(first.left()).toEqual([])
      expect(watchdogs.filter((pid) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'latin1').includes(') Z'))).toEqual([])
      expect(readResults(out).tests.map((t) => [t.id, t.status])).toEqual([['t/test_1.sh', 'passed'], ['t/test_2.sh', 'passed']])
      expect(existsSync(join(out, 'runner-died.txt'))).toBe(false)
    })

    it('a full disk: a worker log that cannot be written loses output, never the test: each test runs once and keeps its outcome, the run says so once', async (ctx) => {
      const disk = smallDisk(512)
      if (!disk) return ctx.skip()
      const dir = tempDir()
      const witness = join(dir, 'witness')
      const filler = join(disk, 'filler')
      const print = `i=0; while [ $i -lt 2000 ]; do echo "line $i of output"; i=$((i+1)); done`
      write(dir, 't/test_1.sh', `echo "$CLAIMRUN_TEST" >> '${witness}'\ndd if=/dev/zero of='${filler}' bs=64k 2>/dev/null\n${print}\n`)
      write(dir, 't/test_2.sh', `echo "$CLAIMRUN_TEST" >> '${witness}'\n${print}\n`)
      // The disk frees up again: the run's own files can then be written.
      write(dir, 't/test_3.sh', `echo "$CLAIMRUN_TEST" >> '${witness}'\nrm -f '${filler}'\n`)
      const out = join(disk, 'out')
      const r = await runCli(['run', 't', '--out', out, '--no-history', '--workers', '1', '--order', 'given', ...fork], { cwd: dir })
      expect(readLines(witness)).toEqual(['t/test_1.sh', 't/test_2.sh', 't/test_3.sh'])
      expect(r.code).toBe(0)
      const said = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('ENOSPC'))
      expect(new Set(said).size).toBe(1)
      expect(said[0]).toMatch(/could not write .*worker01\.log \(ENOSPC: the disk is full\)/)
      expect(r.stderr).not.toMatch(/^\s+at /m)
      const results = readResults(out) as ReturnType<typeof readResults> & { warnings?: string[] }
      expect(results.tests.map((t) => [t.id, t.status, t.attempts])).toEqual([['t/test_1.sh', 'passed', 1], ['t/test_2.sh', 'passed', 1], ['t/test_3.sh', 'passed', 1]])
      expect(results.warnings?.filter((w) => w.includes('ENOSPC'))).toHaveLength(1)
    })
  })
}

describe('claimrun show after a very early kill', () => {
  it('a run killed before it cleared its out folder: show says a run was in progress there, never shows the previous run as this one', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.sh', 'exit 0\n')
    const out = join(dir, 'out')
    expect((await runCli(['run', 't', '--out', out, '--no-history'], { cwd: dir })).code).toBe(0)
    // A project interpreter that waits for a gate: the next run blocks in it while planning (it asks
    // the interpreter whether pytest is there), which holds it at a moment before it clears the out
    // folder, for as long as the test needs. The interpreter also ends when the temp folder goes.
    write(dir, 'p/test_x.py', 'def test_x():\n    pass\n')
    write(dir, '.venv/bin/python', `#!/bin/sh\nwhile [ -d "${dir}" ] && [ ! -e "${dir}/gate" ]; do sleep 0.05; done\nexit 3\n`, 0o755)
    const run = startCli(['run', 't', 'p', '--out', out, '--no-history'], { cwd: dir })
    await waitFor(() => existsSync(join(out, '.claimrun-lock')), 'the run to hold its out folder')
    const during = await runCli(['show', out], { cwd: dir })
    expect(during.code).toBe(2)
    expect(during.stderr).toMatch(new RegExp(`^claimrun: a run is in progress in .*out \\(pid ${run.child.pid}\\)`))
    run.child.kill('SIGKILL')
    await run.exited
    write(dir, 'gate', '')
    const after = await runCli(['show', out], { cwd: dir })
    expect(after.code).toBe(2)
    expect(after.stderr).toMatch(new RegExp(`^claimrun: the last run in .*out \\(pid ${run.child.pid}\\) ended before it finished`))
    expect(after.stdout).toBe('')
    // The next run takes the dead run's lock over, and show shows it.
    expect((await runCli(['run', 't', '--out', out, '--no-history'], { cwd: dir })).code).toBe(0)
    expect((await runCli(['show', out], { cwd: dir })).code).toBe(0)
  })
})

describe('a system that refuses threads', () => {
  it('an unprivileged user at its process limit (ulimit -u): one line naming the limit, exit 2, no stack trace, nothing left running', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip() // switching to an unprivileged user takes root
    const dir = tempDir()
    chmodSync(dir, 0o777)
    const mark = marked()
    for (let n = 1; n <= 16; n++) write(dir, `t/test_${n}.sh`, 'exit 0\n', 0o755)
    const cli = readableCli()
    // A uid of its own: the limit counts every process and thread of the user, and no other test
    // runs as this one. 16 threads do not fit under 12, whatever Node itself starts.
    const uid = 40_000 + Math.floor(Math.random() * 20_000)
    const child = spawn('bash', ['-c', 'ulimit -u 12 && exec "$@"', 'bash', process.execPath, cli, 'run', 't', '--workers', '16', '--no-history', '--out', join(dir, 'out')], {
      cwd: dir, uid, gid: uid, env: { ...process.env, ...mark.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    onTestFinished(() => void child.kill('SIGKILL'))
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.stdout.resume()
    const code = await exitWithin(new Promise<number | null>((resolve) => child.on('close', resolve)), 'claimrun at the thread limit')
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(/^claimrun: could not start 16 worker threads: the system refused a new thread \(EAGAIN: .*ulimit -u.*\); run with fewer --workers, or raise the limit$/m)
    expect(code).toBe(2)
    expect(mark.left()).toEqual([])
  })
})
