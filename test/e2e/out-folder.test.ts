import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ClaimrunError, run } from 'claimrun'
import { CLI, ROOT, readLines, readResults, runCli, tempDir, waitFor, write } from '../support/helpers.js'

/** Every file below `dir` whose name says it is a temp file claimrun left behind. */
function leftoverTemps(dir: string): string[] {
  const found: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name))
      else if (e.name.includes('claimrun-tmp')) found.push(join(d, e.name))
    }
  }
  walk(dir)
  return found
}

function startCli(args: string[], cwd: string) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.resume()
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, stderr: () => stderr }
}

/** A test that waits until `go` exists, so a run can be held open while another one starts. */
const waitsFor = (go: string, started: string): string => `echo "$CLAIMRUN_TEST" >> '${started}'\nwhile [ ! -e '${go}' ] && [ -d '${dirname(go)}' ]; do sleep 0.05; done\n`

describe('a test that deletes the out folder (or the history) does not lose the results', () => {
  it('results.json, summary.txt, report.html and the history are still written', async () => {
    const dir = tempDir()
    const out = join(dir, 'build/out')
    const history = join(dir, 'state/history.json')
    // Like `rm -rf "$OUT"` or `git clean -fdx` in a test, while the other tests run on.
    // Its own exit is not the point (rm -rf can meet a file the runner creates meanwhile and fail with
    // "Directory not empty"): it passes, and the runner's outputs are what is checked.
    write(dir, 't/test_clean.sh', `rm -rf '${join(dir, 'build')}' '${join(dir, 'state')}'\nexit 0\n`)
    for (let i = 1; i <= 3; i++) write(dir, `t/test_${i}.sh`, 'exit 0\n')
    mkdirSync(join(dir, 'state'))
    const r = await runCli(['run', 't', '--out', out, '--history', history, '--workers', '2'], { cwd: dir })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    expect(readResults(out).counts).toMatchObject({ passed: 4 })
    for (const f of ['summary.txt', 'report.html', '.claimrun-out']) expect(existsSync(join(out, f)), f).toBe(true)
    expect(Object.keys(JSON.parse(readFileSync(history, 'utf8')).tests).sort()).toEqual(['t/test_1.sh', 't/test_2.sh', 't/test_3.sh', 't/test_clean.sh'])
    expect(leftoverTemps(dir)).toEqual([])
    // The recreated folder is claimrun's: the next run takes it.
    expect((await runCli(['run', 't', '--out', out, '--no-history'], { cwd: dir })).code).toBe(0)
  })
})

describe('runs that share --out or --history', () => {
  it('two runs sharing one history both land in it (merged under a lock, nothing lost)', async () => {
    const dir = tempDir()
    const history = join(dir, 'history.json')
    const go = join(dir, 'go')
    const started = join(dir, 'started')
    for (const side of ['a', 'b']) for (let i = 1; i <= 4; i++) write(dir, `${side}/test_${i}.sh`, waitsFor(go, started))
    // Both runs read the (empty) history at their start and finish at the same moment: a
    // read-modify-write without the lock kept only one run's entries.
    const a = startCli(['run', 'a', '--out', join(dir, 'out-a'), '--history', history, '--workers', '4'], dir)
    const b = startCli(['run', 'b', '--out', join(dir, 'out-b'), '--history', history, '--workers', '4'], dir)
    await waitFor(() => existsSync(started) && readLines(started).length === 8, 'all eight tests to start')
    writeFileSync(go, '')
    expect([await a.exited, await b.exited]).toEqual([0, 0])
    const ids = Object.keys(JSON.parse(readFileSync(history, 'utf8')).tests).sort()
    expect(ids).toEqual(['a/test_1.sh', 'a/test_2.sh', 'a/test_3.sh', 'a/test_4.sh', 'b/test_1.sh', 'b/test_2.sh', 'b/test_3.sh', 'b/test_4.sh'])
    expect(existsSync(`${history}.lock`)).toBe(false)
  })

  it('an out folder in use by a live run is refused with exit 2 naming its pid; the live run is untouched', async () => {
    const dir = tempDir()
    const out = join(dir, 'out')
    const go = join(dir, 'go')
    const started = join(dir, 'started')
    write(dir, 't/test_1.sh', waitsFor(go, started))
    const first = startCli(['run', 't', '--out', out, '--no-history'], dir)
    await waitFor(() => existsSync(started), 'the first run to start its test')
    const second = await runCli(['run', 't', '--out', out, '--no-history'], { cwd: dir })
    expect(second.code).toBe(2)
    expect(second.stdout).toBe('')
    expect(second.stderr.trim()).toMatch(new RegExp(`^claimrun: --out ".*out" is in use by a running claimrun \\(pid ${first.child.pid}\\); wait for it to end, or give this run its own --out`))
    expect(readLines(started)).toHaveLength(1) // the second run ran nothing
    expect(existsSync(join(out, 'worker01.log'))).toBe(true) // and cleared nothing
    writeFileSync(go, '')
    expect(await first.exited).toBe(0)
    expect(readResults(out).counts).toMatchObject({ passed: 1 })
    expect(existsSync(join(out, '.claimrun-lock'))).toBe(false)
  })

  it('a stale lock from a dead run is taken over', async () => {
    const dir = tempDir()
    const out = join(dir, 'out')
    write(dir, 't/test_1.sh', 'exit 0\n')
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim()
    write(dir, 'out/.claimrun-out', 'claimrun\n')
    write(dir, 'out/.claimrun-lock', JSON.stringify({ pid: Number(dead), start: '1', token: 'gone' }) + '\n')
    const r = await runCli(['run', 't', '--out', out, '--no-history'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(existsSync(join(out, '.claimrun-lock'))).toBe(false)
  })

  it('two API runs on one out folder in one process: the second is refused (CLAIMRUN_OUT_IN_USE)', async () => {
    const dir = tempDir()
    const out = join(dir, 'out')
    const go = join(dir, 'go')
    const started = join(dir, 'started')
    write(dir, 't/test_1.sh', waitsFor(go, started))
    const first = run({ paths: ['t'], cwd: dir, out, history: false })
    await waitFor(() => existsSync(started), 'the first run to start its test')
    const err = await run({ paths: ['t'], cwd: dir, out, history: false }).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(ClaimrunError)
    expect((err as ClaimrunError).code).toBe('CLAIMRUN_OUT_IN_USE')
    expect((err as ClaimrunError).message).toMatch(`in use by a running claimrun (another run in this process, pid ${process.pid})`)
    writeFileSync(go, '')
    expect((await first).counts.passed).toBe(1)
    // Released: a third run may use it now.
    expect((await run({ paths: ['t'], cwd: dir, out, history: false })).exitCode).toBe(0)
  })

  it('--out naming a folder of files claimrun did not write is refused, and the files stay', async () => {
    const dir = tempDir()
    write(dir, 't/test_1.sh', 'touch ran\n')
    write(dir, 'mine/report.html', '<p>my own report</p>\n')
    write(dir, 'mine/results.json', '{"mine": true}\n')
    const r = await runCli(['run', 't', '--out', 'mine', '--no-history'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^claimrun: --out ".*mine" holds files claimrun did not write \("report\.html", "results\.json"\); claimrun only writes into an empty folder or one it made \(marked by \.claimrun-out\): choose another --out/)
    expect(readFileSync(join(dir, 'mine/report.html'), 'utf8')).toBe('<p>my own report</p>\n')
    expect(readFileSync(join(dir, 'mine/results.json'), 'utf8')).toBe('{"mine": true}\n')
    expect(existsSync(join(dir, 'ran'))).toBe(false)
    // An empty folder is fine, and so is an out folder claimrun wrote before the marker existed.
    mkdirSync(join(dir, 'empty'))
    expect((await runCli(['run', 't', '--out', 'empty', '--no-history'], { cwd: dir })).code).toBe(0)
    write(dir, 'old/results.json', readFileSync(join(dir, 'empty/results.json'), 'utf8'))
    write(dir, 'old/worker01.log', 'old log\n')
    expect((await runCli(['run', 't', '--out', 'old', '--no-history'], { cwd: dir })).code).toBe(0)
  })
})

describe('output targets are checked before anything runs; a later failed write changes the exit code', () => {
  const bad: Array<[string, (dir: string) => string[], RegExp]> = [
    ['--out under /proc (mkdir used to spin forever)', () => ['--out', '/proc/claimrun-x/out'], /^claimrun: cannot write to --out "\/proc\/claimrun-x\/out" \(ENOENT\)/],
    ['--junit under /proc', () => ['--junit', '/proc/claimrun-x/j.xml'], /^claimrun: cannot write --junit "\/proc\/claimrun-x\/j\.xml" \(ENOENT\); choose a path in a writable folder/],
    ['--json naming a folder', (dir) => ['--json', join(dir, 't')], /^claimrun: --json ".*\/t" is a folder; name a file, such as ".*\/t\/results\.json"/],
    ['--html below a file', (dir) => ['--html', join(dir, 't/test_1.sh/r.html')], /^claimrun: cannot write --html ".*r\.html" \(ENOTDIR: a file is in the way\)/],
    ['--history naming a folder', (dir) => ['--history', join(dir, 't')], /^claimrun: --history ".*\/t" is a folder; name a file/],
  ]
  for (const [what, args, message] of bad) {
    it(`${what}: one line, exit 2, nothing run, no temp file`, async () => {
      const dir = tempDir()
      write(dir, 't/test_1.sh', `touch '${join(dir, 'ran')}'\n`)
      write(dir, 'out/.claimrun-out', 'claimrun\n')
      write(dir, 'out/results.json', 'the previous run\n')
      const r = await runCli(['run', 't', '--out', join(dir, 'out'), ...args(dir)], { cwd: dir, timeoutMs: 30_000 })
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(message)
      expect(existsSync(join(dir, 'ran'))).toBe(false)
      if (!args(dir).includes('--out')) expect(readFileSync(join(dir, 'out/results.json'), 'utf8')).toBe('the previous run\n')
      expect(leftoverTemps(dir)).toEqual([])
    })
  }

  it('a write that fails after the run (its folder replaced by a file) is a line on stderr, exit 2, no temp file left', async () => {
    const dir = tempDir()
    const reports = join(dir, 'reports')
    // Probed fine before the run; then a test puts a file where the folder was.
    write(dir, 't/test_1.sh', `rm -rf '${reports}' && echo x > '${reports}'\n`)
    const r = await runCli(['run', 't', '--out', join(dir, 'out'), '--no-history', '--junit', join(reports, 'junit.xml')], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^claimrun: could not write --junit .*reports\/junit\.xml \(ENOTDIR: a file is in the way\); exit code 2$/m)
    const results = JSON.parse(readFileSync(join(dir, 'out/results.json'), 'utf8'))
    expect(results.exitCode).toBe(2)
    expect(results.counts.passed).toBe(1)
    expect(results.outputErrors).toEqual([expect.stringMatching(/could not write --junit .*junit\.xml/)])
    expect(r.stdout).toMatch(/not written: could not write --junit/)
    expect(statSync(reports).isFile()).toBe(true)
    expect(leftoverTemps(dir)).toEqual([])
  })

  it('an install whose report assets are gone still writes results.json: the report is an output error, exit 2', async () => {
    // A copy of the built package without assets/ (where report.html's styles and script come from).
    const install = tempDir()
    cpSync(join(ROOT, 'dist'), join(install, 'dist'), { recursive: true })
    copyFileSync(join(ROOT, 'package.json'), join(install, 'package.json'))
    symlinkSync(join(ROOT, 'node_modules'), join(install, 'node_modules'))
    const dir = tempDir()
    write(dir, 't/test_1.sh', 'exit 0\n')
    const r = await runCli(['run', 't', '--out', join(dir, 'out'), '--no-history'], { cwd: dir, cli: join(install, 'dist/src/cli/bin.cjs') })
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(/^claimrun: could not write report\.html in .*out\/report\.html \(.*\); exit code 2$/m)
    const results = JSON.parse(readFileSync(join(dir, 'out/results.json'), 'utf8'))
    expect(results.counts.passed).toBe(1)
    expect(results.exitCode).toBe(2)
    expect(results.outputErrors).toEqual([expect.stringMatching(/could not write report\.html/)])
    expect(existsSync(join(dir, 'out/summary.txt'))).toBe(true)
  })
})
