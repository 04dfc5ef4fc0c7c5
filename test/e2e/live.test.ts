import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { openPage } from '../support/browser.js'
import { CLI, readResults, startCli, tempDir, waitFor, write } from '../support/helpers.js'

/**
 * Tests that each wait until `gate` exists, so a run is visibly in progress until we let it go.
 * They also stop waiting when their temp folder is removed (the test's cleanup), so a test that
 * fails before opening the gate leaves nothing running.
 */
function gatedSuite(dir: string, count: number, failing = 2): string {
  const gate = join(dir, 'gate')
  for (let i = 1; i <= count; i++) write(dir, `t/test_${i}.sh`, `while [ ! -e '${gate}' ] && [ -d '${dir}' ]; do sleep 0.05; done\n${i === failing ? 'echo "<b>nope</b>"; exit 1' : 'exit 0'}\n`)
  return gate
}

describe('live terminal view', () => {
  it('on a terminal (script(1) gives it a pty): worker lines and a progress bar while it runs, the summary intact after', async () => {
    const dir = tempDir()
    gatedSuite(dir, 3)
    // script(1) started from a pipe gives a 0×0 terminal; give it a size as a real one has.
    const command = `stty rows 40 cols 100; ${process.execPath} ${CLI} run t --no-history --order given --out out`
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: dir, env: { ...process.env, NO_COLOR: '1', COLUMNS: '100' }, stdio: ['ignore', 'pipe', 'pipe'] })
    onTestFinished(() => {
      child.kill('SIGKILL')
    })
    let screen = ''
    child.stdout.on('data', (d) => (screen += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    const workerLines = (): RegExpMatchArray[] => [...screen.matchAll(/ (worker0\d) {2}(t\/test_\d\.sh) {2}\d+ ms/g)]
    // All three tests are held at the gate until the live view has shown each worker running one.
    await waitFor(() => new Set(workerLines().map((m) => m[1])).size === 3, 'a live line for each worker')
    write(dir, 'gate', '')
    expect(await exited).toBe(1)
    expect(screen).toContain('\u001b[') // it redraws
    expect(new Set(workerLines().map((m) => m[2]))).toEqual(new Set(['t/test_1.sh', 't/test_2.sh', 't/test_3.sh']))
    expect(screen).toMatch(/\[[█░]{24}\] \d\/3/)
    expect(screen).toMatch(/✗ t\/test_2\.sh: failed \(exit 1\) \(worker0\d, /)
    // The summary comes after the live area is gone, whole.
    const summary = screen.slice(screen.lastIndexOf('run (serial)'))
    expect(summary).toMatch(/run_tests \(parallel, 3 workers\)[\s\S]*── failed: t\/test_2\.sh[\s\S]*<b>nope<\/b>[\s\S]*2 passed, 1 failed/)
    // A small run on a terminal gets the table of every test (the live view listed none of them).
    expect(summary).toMatch(/^TEST +WORKER +STATUS +DURATION/m)
  })

  it('without a terminal: one plain line per finished test, no escape codes; a slow test is announced once', async () => {
    const dir = tempDir()
    const gate = join(dir, 'gate')
    write(dir, 't/test_fast.sh', 'exit 0\n')
    // Runs until the runner has announced it as slow (and we open the gate), however loaded the machine.
    write(dir, 't/test_slow.sh', `while [ ! -e '${gate}' ] && [ -d '${dir}' ]; do sleep 0.05; done\n`)
    const cli = startCli(['run', 't', '--slow', '0.4', '--out', join(dir, 'out')], { cwd: dir, env: { NO_COLOR: '' } })
    await waitFor(() => /^slow: t\/test_slow\.sh/m.test(cli.stdout()), 'the slow announcement')
    write(dir, 'gate', '')
    expect((await cli.exited).code).toBe(0)
    const stdout = cli.stdout()
    expect(stdout).not.toContain('\u001b')
    expect(stdout.match(/^slow: t\/test_slow\.sh on worker0\d, \d+ ms$/gm)).toHaveLength(1)
    expect(stdout).toMatch(/^\[1\/2\] passed {6}worker0\d/m)
    expect(stdout).toMatch(/^\[2\/2\] passed/m)
  })
})

describe('--ui', () => {
  it('serves the report on 127.0.0.1 and fills it in live; the server stops when the run ends', async () => {
    const dir = tempDir()
    gatedSuite(dir, 4)
    const child = spawn(process.execPath, [CLI, 'run', 't', '--ui', '--workers', '2', '--no-history', '--order', 'given', '--out', join(dir, 'out')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    onTestFinished(() => {
      child.kill('SIGKILL')
    })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    await waitFor(() => /live report at (http:\/\/127\.0\.0\.1:\d+\/[\w-]+\/)/.test(stdout), 'the URL')
    const url = /live report at (http:\/\/127\.0\.0\.1:\d+\/[\w-]+\/)/.exec(stdout)![1]!
    const { page, errors } = await openPage()
    await page.goto(url)
    // While the tests wait at the gate: both workers are shown running.
    await page.waitForSelector('[data-node="worker01"].st-running')
    await page.waitForSelector('[data-node="worker02"].st-running')
    expect(await page.locator('#run-state').textContent()).toBe('running')
    expect(await page.locator('.timeline rect.bar').count()).toBe(2)
    write(dir, 'gate', '')
    const code = await exited
    await page.waitForFunction(() => document.querySelector('#run-state')?.textContent === 'failed', undefined, { timeout: 10_000 }).catch(async (err: unknown) => {
      throw new Error(`${err}\nstate: ${await page.locator('#run-state').textContent()}\nstdout: ${stdout}`)
    })
    expect(await page.locator('#tests tbody tr').count()).toBe(4)
    // The page may still be redrawing from the last events when it is first clicked: click until it shows.
    await expect.poll(async () => {
      await page.click('tr[data-test="t/test_2.sh"]')
      return page.locator('#detail pre.output').count()
    }, { timeout: 30_000 }).toBeGreaterThan(0)
    expect(await page.locator('#detail pre.output').textContent()).toBe('<b>nope</b>\n')
    await page.click('[data-node="worker01"]')
    // Its log arrived with the last event (the server is gone now): it holds the tests it ran.
    const ran = readResults(join(dir, 'out')).tests.filter((t) => t.worker === 'worker01').map((t) => t.id)
    expect(ran.length).toBeGreaterThan(0)
    await page.waitForFunction((ids) => ids.every((id) => document.querySelector('pre[data-log="worker01"]')?.textContent?.includes(`=== ${id} `)), ran, { timeout: 5000 })
    expect(errors).toEqual([])
    expect(code).toBe(1)
    await expect(fetch(url)).rejects.toThrow()
    expect(existsSync(join(dir, 'out', 'report.html'))).toBe(true)
  })

  it('--ui-keep keeps serving the finished report until Ctrl-C', async () => {
    const dir = tempDir()
    write(dir, 't/test_1.sh', 'echo one\n')
    const child = spawn(process.execPath, [CLI, 'run', 't', '--ui-keep', '--out', join(dir, 'out')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    onTestFinished(() => {
      child.kill('SIGKILL')
    })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    await waitFor(() => stdout.includes('still serving'), 'the run to end')
    const url = /live report at (http:\/\/127\.0\.0\.1:\d+\/[\w-]+\/)/.exec(stdout)![1]!
    const page = await (await fetch(url)).text()
    expect(page).toContain('"mode":"static"')
    expect(page).toContain('t/test_1.sh')
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    await expect(fetch(url)).rejects.toThrow()
  })
})
