import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it, onTestFinished } from 'vitest'
import { openPage } from '../support/browser.js'
import { CLI, readResults, tempDir, waitFor, write } from '../support/helpers.js'

/**
 * One outcome model (src/record/outcome.ts): a run with a test of every status is reported with
 * the same numbers by the terminal summary, summary.txt, results.json, JUnit and the HTML page.
 * passed + flaky = passed; failed + timedout + error = failed; interrupted + notrun = skipped.
 */
describe('one outcome model', () => {
  it('every report of a run with all seven statuses gives the same tally', async () => {
    const dir = tempDir()
    const marks = join(dir, 'marks')
    const out = join(dir, 'out')
    const ticks = join(dir, 'ticks')
    // Three workers. Worker A takes test_1 (slot 0, claimed first), which hangs, ticking, until
    // --timeout ends it: timedout. The run is interrupted right after, so its retry never runs.
    write(dir, 't/test_1_timeout.sh', `while :; do echo tick >> '${ticks}'; sleep 0.5; done\n`)
    // Fails its first attempt, passes its second (on another worker): flaky.
    write(dir, 't/test_2_flaky.sh', `[ -e '${marks}.flaky' ] && exit 0\n: > '${marks}.flaky'\nexit 1\n`)
    write(dir, 't/test_3_fail.sh', 'echo broken\nexit 1\n')
    // An executable whose interpreter does not exist cannot start: error.
    write(dir, 't/test_4_error.sh', '#!/nonexistent/interpreter\n', 0o755)
    // Pass once test_1 has ticked a few times (~3 s), holding workers B and C, so the held tests
    // below start well after test_1 did and its timeout (then the interrupt) comes long before
    // theirs could. B and C then have ~9 s to reach them, so when test_1 times out no worker but
    // its own is free, and its retry is never claimed before the interrupt.
    for (const n of [5, 6]) write(dir, `t/test_${n}_pass.sh`, `until [ "$(cat '${ticks}' 2>/dev/null | wc -l)" -ge 6 ] || [ ! -d '${dir}' ]; do sleep 0.05; done\n`)
    // Held until the run is interrupted: two on workers B and C, the third on A once test_1 timed out.
    for (const n of [7, 8, 9]) write(dir, `t/test_${n}_block.sh`, `: > '${marks}.${n}'\nexec sleep 600\n`)
    write(dir, 't/test_10_never.sh', 'exit 0\n')

    const junit = join(dir, 'junit.xml')
    const child = spawn(process.execPath, [CLI, 'run', 't', '--out', out, '--workers', '3', '--order', 'given', '--no-history',
      '--retries', '1', '--timeout', '12', '--kill-grace', '0', '--junit', junit], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    onTestFinished(() => {
      child.kill('SIGKILL')
    })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    const timedOut = (): boolean => readdirSync(out).some((f) => f.endsWith('.log') && readFileSync(join(out, f), 'utf8').includes('test_1_timeout.sh: timed out'))
    await waitFor(() => [7, 8, 9].every((n) => existsSync(`${marks}.${n}`)) && timedOut(), 'the timeout, then the three held tests to start', 60_000)
    child.kill('SIGINT')
    expect(await exited).toBe(130)

    const results = readResults(out)
    const statuses = Object.fromEntries(results.tests.map((t) => [t.id.slice(2), t.status]))
    expect(statuses).toEqual({
      'test_1_timeout.sh': 'timedout', 'test_2_flaky.sh': 'flaky', 'test_3_fail.sh': 'failed', 'test_4_error.sh': 'error',
      'test_5_pass.sh': 'passed', 'test_6_pass.sh': 'passed', 'test_7_block.sh': 'interrupted', 'test_8_block.sh': 'interrupted',
      'test_9_block.sh': 'interrupted', 'test_10_never.sh': 'notrun',
    })
    expect(results.counts).toEqual({ passed: 2, flaky: 1, failed: 1, timedout: 1, error: 1, interrupted: 3, notrun: 1 })

    // 3 passed (passed + flaky), 3 failed (failed + timedout + error), 4 skipped (interrupted + notrun).
    const totals = '3 passed, 3 failed, 4 skipped (1 flaky, 1 timedout, 1 error, 3 interrupted, 1 notrun) - 10 tests in'
    expect(stdout).toContain(totals)
    expect(readFileSync(join(out, 'summary.txt'), 'utf8')).toContain(totals)
    // The pipeline's worker lines add up to the same failures.
    const failedPerWorker = [...stdout.matchAll(/worker0\d +\d+ tests +\d+ passed +(\d+) failed/g)].map((m) => Number(m[1]))
    expect(failedPerWorker.reduce((a, b) => a + b, 0)).toBe(3)

    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(junit, 'utf8'))
    const suite = xml.testsuites.testsuite
    expect({ tests: suite.tests, failures: suite.failures, errors: suite.errors, skipped: suite.skipped }).toEqual({ tests: '10', failures: '2', errors: '1', skipped: '4' })

    const { page, errors } = await openPage()
    await page.goto(`file://${join(out, 'report.html')}`)
    expect(await page.locator('[data-node="summary"] small').textContent()).toBe('3 passed, 3 failed, 4 skipped')
    const workerFailed = await page.locator('[data-node^="worker"] small').allTextContents()
    expect(workerFailed.map((t) => Number(/(\d+) failed/.exec(t)?.[1])).reduce((a, b) => a + b, 0)).toBe(3)
    expect(errors).toEqual([])
  })
})
