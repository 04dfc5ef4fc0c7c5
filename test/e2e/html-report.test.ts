import { mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from 'claimrun'
import { openPage } from '../support/browser.js'
import { ROOT, runCli, tempDir, write } from '../support/helpers.js'

const XSS = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"></pre><b onmouseover=alert(1)>`

describe('HTML report', () => {
  it('is one offline file: pipeline, timeline, details on click, sortable and filterable table, test output escaped', async () => {
    const dir = tempDir()
    write(dir, 't/test_1_pass.sh', 'sleep 0.2\necho all good\n')
    write(dir, 't/test_2_fail.sh', 'echo "the assertion that failed"\nexit 1\n')
    write(dir, 't/test_3_xss.sh', `printf '%s\\n' '${XSS}'\nexit 1\n`)
    write(dir, 't/test_4_slowest.sh', 'sleep 0.5\n')
    const out = join(dir, 'out')
    const result = await run({ paths: ['t'], cwd: dir, out, workers: 2, history: false, order: 'given' })
    const file = join(out, 'report.html')
    const html = readFileSync(file, 'utf8')
    expect(html).not.toMatch(/\b(src|href)=["']?https?:/) // nothing from the network
    expect(html).not.toContain('<script>window.__xss') // the payload never appears as markup

    const { page, errors } = await openPage()
    await page.goto(`file://${file}`)
    for (const node of ['run', 'run_tests', 'worker01', 'worker02', 'summary']) {
      await expect(page.locator(`[data-node="${node}"]`).count()).resolves.toBe(1)
    }
    expect(await page.locator('#run-state').textContent()).toBe('failed')
    expect(await page.locator('.timeline rect.bar').count()).toBe(4)
    expect(await page.locator('#makespan').textContent()).toMatch(/makespan .* lower bound max\(sum\/2, longest\)/)

    // Clicking a failed test shows its output and status.
    await page.click('tr[data-test="t/test_2_fail.sh"]')
    expect(await page.locator('#detail pre.output').textContent()).toBe('the assertion that failed\n')
    expect(await page.locator('#detail').textContent()).toContain('exit code1')

    // The XSS test's output is shown as text, and nothing in it ran.
    await page.click('tr[data-test="t/test_3_xss.sh"]')
    expect(await page.locator('#detail pre.output').textContent()).toBe(`${XSS}\n`)
    await page.locator('#detail pre.output').hover()
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
    expect(await page.locator('#detail img, #detail b').count()).toBe(0)

    // A worker shows its log; the table sorts by duration and filters.
    const lane = result.tests.find((t) => t.id === 't/test_2_fail.sh')!.worker!
    await page.click(`[data-node="${lane}"]`)
    expect(await page.locator(`pre[data-log="${lane}"]`).textContent()).toContain('=== t/test_2_fail.sh')
    await page.click('th[data-key="durationMs"]')
    const longest = [...result.tests].sort((a, b) => (a.durationMs ?? 0) - (b.durationMs ?? 0)).at(-1)!.id
    expect(await page.locator('#tests tbody tr').first().getAttribute('data-test')).toBe(longest)
    await page.click('th[data-key="status"]')
    expect(await page.locator('#tests tbody tr').first().locator('td.status').textContent()).toBe('failed')
    await page.fill('#filter', 'xss')
    expect(await page.locator('#tests tbody tr').count()).toBe(1)

    expect(errors).toEqual([])
    const shot = join(dir, 'report.png')
    await page.fill('#filter', '')
    await page.click('tr[data-test="t/test_2_fail.sh"]')
    await page.screenshot({ path: shot, fullPage: true })
    expect(statSync(shot).size).toBeGreaterThan(10_000)
  })

  it('opens on the failures, each with its output, shows the start in local time; the README screenshots come from this test (UPDATE_SCREENSHOT=1 rewrites docs/report.png)', async () => {
    const dir = tempDir()
    const out = join(dir, 'out')
    const r = await runCli(['run', 'fixtures/demo', '--out', out, '--no-history', '--order', 'given', '--html', join(dir, 'copy.html')], { cwd: ROOT })
    expect(r.code).toBe(1)
    expect(readFileSync(join(dir, 'copy.html'), 'utf8')).toBe(readFileSync(join(out, 'report.html'), 'utf8'))
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { startedAt: string; tests: Array<{ id: string; status: string; tail: string }> }
    const failed = results.tests.filter((t) => t.status === 'failed')
    expect(failed).toHaveLength(3)

    // A viewer in Tokyo (UTC+9, no daylight saving) sees Tokyo time.
    const { browser } = await openPage()
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Tokyo', locale: 'en-GB' })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(String(e)))
    await page.goto(`file://${join(out, 'report.html')}`)

    // The first thing under the header: the failures, in run order, each with its whole output shown.
    expect(await page.locator('main > section').first().getAttribute('id')).toBe('failures')
    expect(await page.locator('#failures h2').textContent()).toBe('Failures (3)')
    expect(await page.locator('#failures article.failure').evaluateAll((a) => a.map((e) => e.getAttribute('data-test')))).toEqual(failed.map((t) => t.id))
    for (const t of failed) {
      expect(await page.locator(`#failures article[data-test="${t.id}"] pre.output`).textContent()).toBe(t.tail)
      expect(t.tail).toContain('AssertionError: expected 42, received 41')
    }
    expect(await page.locator('#failures pre.output').first().isVisible()).toBe(true)
    const tokyo = new Date(Date.parse(results.startedAt) + 9 * 3600_000).toISOString().slice(11, 19)
    const started = page.locator('header time#started')
    expect(await started.getAttribute('datetime')).toBe(results.startedAt)
    expect(await started.textContent()).toContain(tokyo)
    expect(await started.textContent()).toMatch(/GMT\+9|JST/)
    // The timeline and the table are still there; a failure's name opens its details.
    expect(await page.locator('.timeline rect.bar').count()).toBe(20)
    expect(await page.locator('#tests tbody tr').count()).toBe(20)
    await page.click(`#failures article[data-test="${failed[0]!.id}"] h3 a`)
    expect(await page.locator('#detail pre.output').textContent()).toContain('AssertionError')

    // The README's picture: the page as it opens.
    const shot = process.env.UPDATE_SCREENSHOT ? join(ROOT, 'docs', 'report.png') : join(dir, 'report.png')
    mkdirSync(join(shot, '..'), { recursive: true })
    await page.goto(`file://${join(out, 'report.html')}`)
    await page.screenshot({ path: shot, clip: { x: 0, y: 0, width: 1280, height: 900 } })
    expect(statSync(shot).size).toBeGreaterThan(10_000)
    expect(errors).toEqual([])
  })

  it('draws every attempt of a retried test on the timeline, and its header counts each status', async () => {
    const dir = tempDir()
    write(dir, 't/test_1_ok.sh', 'exit 0\n')
    write(dir, 't/test_2_flaky.sh', `if [ ! -e '${dir}/once' ]; then : > '${dir}/once'; exit 1; fi\n`)
    write(dir, 't/test_3_fail.sh', 'echo still broken\nexit 1\n')
    const out = join(dir, 'out')
    const result = await run({ paths: ['t'], cwd: dir, out, workers: 1, retries: 1, history: false, order: 'given' })
    expect(result.tests.map((t) => `${t.status} ${t.attempts}`)).toEqual(['passed 1', 'flaky 2', 'failed 2'])

    const { page, errors } = await openPage()
    await page.goto(`file://${join(out, 'report.html')}`)
    // One bar per attempt (1 + 2 + 2), each where and when it ran.
    const bars = await page.locator('.timeline rect.bar').evaluateAll((rects) => rects.map((r) => ({
      test: r.getAttribute('data-test'), attempt: Number(r.getAttribute('data-attempt')), x: Number(r.getAttribute('x')), title: r.querySelector('title')?.textContent ?? '',
    })))
    expect(bars.map((b) => `${b.test} ${b.attempt}`).sort()).toEqual(['t/test_1_ok.sh 1', 't/test_2_flaky.sh 1', 't/test_2_flaky.sh 2', 't/test_3_fail.sh 1', 't/test_3_fail.sh 2'])
    const flaky = bars.filter((b) => b.test === 't/test_2_flaky.sh').sort((a, b) => a.attempt - b.attempt)
    expect(flaky[0]!.x).toBeLessThan(flaky[1]!.x)
    expect(flaky[0]!.title).toMatch(/^t\/test_2_flaky\.sh — attempt 1, retried: failed, /)
    expect(flaky[1]!.title).toMatch(/^t\/test_2_flaky\.sh — flaky, /)
    // The header: every status the run has, in the summary's words, and counts said in the right number.
    const counts = await page.locator('#counts .count').evaluateAll((spans) => spans.map((s) => `${s.getAttribute('data-status')}: ${s.textContent}`))
    expect(counts).toEqual(['passed: 1 passed', 'flaky: 1 flaky', 'failed: 1 failed'])
    expect(await page.locator('header .muted').textContent()).toMatch(/^3 tests · .* · 1 worker · started /)
    expect(await page.locator('[data-node="run_tests"] small').textContent()).toBe('parallel · 1 worker')
    expect(errors).toEqual([])
  })

  it('claimrun show reprints the summary; show --html rebuilds the page', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.sh', 'exit 0\n')
    write(dir, 't/test_b.sh', 'echo boom\nexit 2\n')
    const out = join(dir, 'out')
    await runCli(['run', 't', '--out', out], { cwd: dir })
    const summary = readFileSync(join(out, 'summary.txt'), 'utf8')
    const shown = await runCli(['show', out], { cwd: dir })
    expect(shown.code).toBe(0)
    expect(shown.stdout).toBe(summary)
    const before = readFileSync(join(out, 'report.html'), 'utf8')
    const rebuilt = await runCli(['show', out, '--html'], { cwd: dir })
    expect(rebuilt.stdout).toMatch(/wrote out\/report\.html/)
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toBe(before)
    const missing = await runCli(['show', join(dir, 'nowhere')], { cwd: dir })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/results\.json: not found; run claimrun run first/)
  })
})
