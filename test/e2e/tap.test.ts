import { execFile, spawnSync } from 'node:child_process'
import { cpSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { run, type SubtestSummary, type TestResult } from 'claimrun'
import { openPage } from '../support/browser.js'
import { readResults, ROOT, runCli, tempDir, write } from '../support/helpers.js'
import { FORK_PATHS, onForkPath } from '../support/fork-path.js'

const TAP_FIXTURES = join(ROOT, 'fixtures/tap')
const RSS_RUN = new URL('../support/rss-run.mjs', import.meta.url).pathname

interface ProveFile {
  verdict: 'PASS' | 'FAIL' | 'SKIP'
  run: number
  passed: number
  failed: number
  skipped: number
  todo: number
  planned: number
}

/**
 * The real `prove -j3` on these files (run from `cwd`), with fixtures/tap/lib/ProveCounts.pm as its
 * formatter: prove's own console output plus one line per file with the counts its TAP::Parser
 * reached and its verdict. A bail out stops prove's whole run (and prove exits 255) before its
 * parser can call the file failed, so a file that bailed out is FAIL when prove said so.
 */
function prove(cwd: string, files: string[]): { files: Map<string, ProveFile>; code: number | null; output: string } {
  const res = spawnSync('prove', ['-j3', '--formatter', 'ProveCounts', ...files], {
    cwd,
    env: { ...process.env, PERL5LIB: join(TAP_FIXTURES, 'lib') },
    encoding: 'utf8',
    timeout: 120_000,
  })
  const output = `${res.stdout}\n${res.stderr}`
  const bailed = /FAILED--Further testing stopped/.test(res.stderr)
  const parsed = new Map<string, ProveFile>()
  for (const line of res.stdout.split('\n')) {
    const [tag, file, verdict, ...n] = line.split('\t')
    if (tag !== 'PROVE-COUNTS' || !file) continue
    const [ran, passed, failed, skipped, todo, planned] = n.map(Number) as number[]
    parsed.set(file, { verdict: bailed ? 'FAIL' : (verdict as ProveFile['verdict']), run: ran!, passed: passed!, failed: failed!, skipped: skipped!, todo: todo!, planned: planned! })
  }
  return { files: parsed, code: res.status, output }
}

const total = (s: SubtestSummary): number => s.passed + s.failed + s.skipped + s.todo

describe.each(FORK_PATHS)('TAP sub-tests ($name)', ({ path }) => {
  onForkPath(path)
  it('agrees with prove -j3 on a suite of Test::More files: which files fail, and every sub-test count', async () => {
    const dir = tempDir()
    cpSync(TAP_FIXTURES, join(dir, 't'), { recursive: true, filter: (src) => !src.includes('/lib') })
    const files = readdirSync(join(dir, 't')).filter((f) => f.endsWith('.t')).sort().map((f) => `t/${f}`)
    expect(files.length).toBeGreaterThanOrEqual(12)
    // prove stops its whole run at a bail out, so each file that bails out gets a prove run of its own.
    const bails = files.filter((f) => /Bail out!|BAIL_OUT/.test(readFileSync(join(dir, f), 'utf8')))
    expect(bails).toHaveLength(2)
    const byProve = prove(dir, files.filter((f) => !bails.includes(f)))
    expect(byProve.code).toBe(1)
    for (const f of bails) {
      const one = prove(dir, [f])
      expect(one.code, one.output).toBe(255)
      byProve.files.set(f, one.files.get(f)!)
    }
    expect([...byProve.files.keys()].sort(), byProve.output).toEqual(files)

    const out = join(dir, 'out')
    const cli = await runCli(['run', 't', '--pattern', '*.t', '--workers', '3', '--out', out, '--no-history', '--junit', join(dir, 'junit.xml')], { cwd: dir, timeoutMs: 120_000 })
    expect(cli.code, cli.stderr).toBe(1)
    const tests = readResults(out).tests as unknown as TestResult[]
    const rows: string[] = []
    for (const file of files) {
      const p = byProve.files.get(file)!
      const t = tests.find((x) => x.id === file)!
      const s = t.subtests!
      expect(s, file).toBeDefined()
      rows.push(`| ${file} | ${p.verdict} | ${p.run} run, ${p.passed} passed (incl. skip/todo), ${p.failed} failed, ${p.skipped} skipped, ${p.todo} todo, plan ${p.planned < 0 ? '-' : p.planned} | ${t.status} (exit ${t.exitCode}) | ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped, ${s.todo} todo, plan ${s.planned ?? '-'}${s.problems.length ? `; ${s.problems.join('; ')}` : ''} |`)
      expect(t.status === 'failed' ? 'FAIL' : 'PASS', `${file}: prove says ${p.verdict}`).toBe(p.verdict === 'FAIL' ? 'FAIL' : 'PASS')
      // prove counts a skipped or TODO test point among its passes; claimrun counts them apart.
      expect({ run: total(s), passed: s.passed + s.skipped + s.todo, failed: s.failed, skipped: s.skipped, todo: s.todo, planned: s.planned ?? -1 }, file).toEqual({
        run: p.run, passed: p.passed, failed: p.failed, skipped: p.skipped, todo: p.todo, planned: p.planned,
      })
    }
    console.log(['| file | prove -j3 | prove counts | claimrun | claimrun counts |', '| --- | --- | --- | --- | --- |', ...rows].join('\n'))

    // The reason is in the result, and the summary says it, for the files only their TAP failed.
    const byId = Object.fromEntries(tests.map((t) => [t.id, t]))
    expect(byId['t/exit-zero-not-ok.t']).toMatchObject({ status: 'failed', exitCode: 0, subtests: { failures: ['beta'], problems: ['1 of 3 sub-tests failed'] } })
    expect(byId['t/exit-zero-not-ok.t']!.notes).toEqual(['exited 0, but its TAP failed it: 1 of 3 sub-tests failed'])
    expect(byId['t/bad-plan.t']).toMatchObject({ status: 'failed', exitCode: 0, subtests: { planned: 5, problems: ['planned 5 sub-tests but ran 3'] } })
    expect(byId['t/bail-exit-zero.t']).toMatchObject({ status: 'failed', exitCode: 0, subtests: { bailout: 'disk full', problems: ['Bail out! disk full'] } })
    expect(byId['t/fail.t']!.subtests!.failures).toEqual(['arithmetic <is> "wrong" & odd', 'fourth fails'])
    // Nested sub-tests count once, as their top-level point (as prove counts), and a failure is named by its path.
    expect(byId['t/subtests.t']!.subtests).toMatchObject({ passed: 2, failed: 1, failures: ['outer > inner bad'] })
    expect(byId['t/skip-all.t']).toMatchObject({ status: 'passed', subtests: { planned: 0, skipAll: 'not on this platform' } })
    expect(cli.stdout).toContain('2/4 sub-tests passed; failing: arithmetic <is> "wrong" & odd, fourth fails')
    expect(cli.stdout).toMatch(/^\[ ?\d+\/12\] failed +worker0\d +\S+ ms +t\/fail\.t \(2\/4 sub-tests passed\)$/m)
    expect(cli.stdout).toContain('note: exited 0, but its TAP failed it: planned 5 sub-tests but ran 3')
    expect(cli.stdout).toMatch(/^sub-tests: 21 passed, 5 failed, 2 skipped, 2 todo in 12 TAP tests$/m)

    // JUnit: a testsuite per TAP file, a testcase per sub-test, the file's own case only where no sub-test carries its failure.
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8')
    expect(XMLValidator.validate(xml)).toBe(true)
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' || name === 'testsuite' }).parse(xml)
    const suites = Object.fromEntries(doc.testsuites.testsuite.map((s: { name: string }) => [s.name, s]))
    expect(suites.claimrun).toMatchObject({ tests: '0' })
    const fail = suites['t/fail.t']
    expect(fail).toMatchObject({ tests: '4', failures: '2', skipped: '0' })
    expect(fail.testcase.map((c: { name: string }) => c.name)).toEqual(['first passes', 'arithmetic <is> "wrong" & odd', 'third passes', 'fourth fails'])
    expect(fail.testcase[1].failure.message).toBe('not ok: arithmetic <is> "wrong" & odd')
    expect(suites['t/skip.t']).toMatchObject({ tests: '4', failures: '0', skipped: '2' })
    expect(suites['t/todo.t']).toMatchObject({ tests: '3', failures: '0', skipped: '2' })
    const plan = suites['t/bad-plan.t']
    expect(plan).toMatchObject({ tests: '4', failures: '1' })
    expect(plan.testcase.at(-1)).toMatchObject({ name: 'bad-plan.t', classname: 't' })
    expect(plan.testcase.at(-1).failure.message).toBe('failed (exit 0, TAP: planned 5 sub-tests but ran 3)')
    expect(suites['t/die-midway.t'].testcase.at(-1).failure.message).toBe('failed (exit 255, TAP: planned 4 sub-tests but ran 2)')
    const sum = (k: string): number => doc.testsuites.testsuite.reduce((n: number, s: Record<string, string>) => n + Number(s[k]), 0)
    expect(doc.testsuites).toMatchObject({ tests: String(sum('tests')), failures: String(sum('failures')), skipped: String(sum('skipped')) })
  }, 180_000)

  it('node:test files run directly: Node prints TAP when stdout is not a terminal; nested failures are named parent > child', async () => {
    const dir = tempDir()
    write(dir, 't/math.test.mjs', `import { test, describe, it } from 'node:test'
import assert from 'node:assert'
test('adds', () => assert.equal(1 + 1, 2))
test('multiplies <badly>', () => assert.equal(2 * 2, 5))
test.skip('not today', () => {})
test.todo('some day', () => { throw new Error('not yet') })
describe('group', () => {
  it('inner ok', () => {})
  it('inner bad', () => { throw new Error('nope') })
})
`)
    write(dir, 't/todo-only.test.mjs', `import { test } from 'node:test'
test('works', () => {})
test.todo('fails but is a todo', () => { throw new Error('later') })
`)
    // Node 20 and 22 print TAP when stdout is not a terminal; Node 23 made spec the default everywhere
    // (nodejs/node#54548), so there the TAP reporter is asked for.
    const major = Number(process.versions.node.split('.')[0])
    const tapFlag = major >= 23 ? { cmd: `"${process.execPath}" --test-reporter=tap {file}` } : {}
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), history: false, ...tapFlag })
    const byId = Object.fromEntries(result.tests.map((t) => [t.id, t]))
    const math = byId['t/math.test.mjs']!
    // Node exits 1 when a test fails; the TAP says which.
    expect(math).toMatchObject({ status: 'failed', exitCode: 1 })
    expect(math.subtests).toMatchObject({ passed: 1, failed: 2, skipped: 1, todo: 1, planned: 5, failures: ['multiplies <badly>', 'group > inner bad'] })
    expect(math.subtests!.tests.map((s) => `${s.status} ${s.name}`)).toEqual(['passed adds', 'failed multiplies <badly>', 'skipped not today', 'todo some day', 'failed group'])
    // A failing TODO fails nothing: Node exits 0 and so does the TAP.
    expect(byId['t/todo-only.test.mjs']).toMatchObject({ status: 'passed', exitCode: 0, subtests: { passed: 1, failed: 0, todo: 1, problems: [] } })
  })

  it('only stdout is TAP: stderr is diagnostics, however TAP-like, and the log keeps both streams as before', async () => {
    const dir = tempDir()
    write(dir, 't/test_mixed.sh', `echo 'TAP version 13'
echo '1..2'
echo 'not ok 1 - on stderr, so not a sub-test' >&2
echo 'ok 1 - first'
echo 'Bail out! only a diagnostic' >&2
echo 'ok 2 - second'
`)
    write(dir, 't/test_stderr_tap.sh', `echo 'hello, not TAP'\nprintf '1..2\\nnot ok 1\\n' >&2\n`)
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), history: false, workers: 1, order: 'given' })
    const [mixed, stderrTap] = result.tests
    expect(mixed).toMatchObject({ status: 'passed', subtests: { passed: 2, failed: 0, problems: [] } })
    expect(stderrTap!.status).toBe('passed')
    expect(stderrTap!.subtests).toBeUndefined()
    const log = readFileSync(join(dir, 'out', 'worker01.log'), 'utf8')
    expect(log).toContain('not ok 1 - on stderr, so not a sub-test\n')
    expect(log).toMatch(/=== t\/test_mixed\.sh: passed in \d+ ms\n/)
  })

  it('TAP that arrives a byte at a time (lines and UTF-8 characters split across chunks) reads the same', async () => {
    const dir = tempDir()
    write(dir, 't/bytes.t', `my $s = "1..2\\nok 1 - caf\\xc3\\xa9\\nnot ok 2 - na\\xc3\\xafve\\n";
for my $c (split //, $s) { syswrite(STDOUT, $c); select(undef, undef, undef, 0.002) }
`)
    const [t] = (await run({ paths: ['t/bytes.t'], cwd: dir, out: join(dir, 'out'), history: false })).tests
    expect(t).toMatchObject({ status: 'failed', exitCode: 0, subtests: { passed: 1, failed: 1, failures: ['naïve'], tests: [{ name: 'café', status: 'passed' }, { name: 'naïve', status: 'failed' }] } })
  })

  it('exit 0 with a not ok fails the test and says so in the log footer; --no-tap and tap: false turn it off', async () => {
    const dir = tempDir()
    write(dir, 't/test_notok.sh', `echo '1..2'\necho 'ok 1 - fine'\necho 'not ok 2 - broken'\n`)
    const on = await runCli(['run', 't', '--out', join(dir, 'on'), '--no-history'], { cwd: dir })
    expect(on.code).toBe(1)
    expect(readResults(join(dir, 'on')).tests[0]).toMatchObject({ status: 'failed', exitCode: 0 })
    expect(readFileSync(join(dir, 'on', 'worker01.log'), 'utf8')).toContain('=== t/test_notok.sh: failed (exit 0, TAP: 1 of 2 sub-tests failed) in ')
    const off = await runCli(['run', 't', '--out', join(dir, 'off'), '--no-history', '--no-tap'], { cwd: dir })
    expect(off.code).toBe(0)
    const offTest = readResults(join(dir, 'off')).tests[0]!
    expect(offTest.status).toBe('passed')
    expect(offTest.subtests).toBeUndefined()
    const api = await run({ paths: ['t'], cwd: dir, out: join(dir, 'api'), history: false, tap: false })
    expect(api.exitCode).toBe(0)
    await expect(run({ paths: ['t'], cwd: dir, out: join(dir, 'bad'), tap: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'CLAIMRUN_BAD_OPTION', message: 'tap must be true or false (received "yes")' })
  })

  it('output that only looks like TAP later, or says "ok" casually, is not TAP', async () => {
    const dir = tempDir()
    write(dir, 't/test_ok_word.sh', `echo ok\necho 'not ok 2 - mentioned in passing'\n`)
    write(dir, 't/test_late.sh', `echo 'building...'\necho '1..1'\necho 'not ok 1'\n`)
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), history: false })
    for (const t of result.tests) {
      expect(t.status, t.id).toBe('passed')
      expect(t.subtests, t.id).toBeUndefined()
    }
  })

  it('the HTML page shows a TAP test\'s sub-test counts, why it failed, and its failing names as text', async () => {
    const dir = tempDir()
    const xss = '<img src=x onerror="window.__xss = 1">'
    write(dir, 't/test_tap.sh', `echo '1..4'\necho 'ok 1 - fine'\necho 'not ok 2 - ${xss}'\necho 'ok 3 # SKIP later'\n`)
    const out = join(dir, 'out')
    await run({ paths: ['t'], cwd: dir, out, history: false })
    const { page, errors } = await openPage()
    await page.goto(`file://${join(out, 'report.html')}`)
    await page.click('tr[data-test="t/test_tap.sh"]')
    const detail = (await page.locator('#detail').textContent()) ?? ''
    expect(detail).toContain('sub-tests1/3 passed, 1 skipped, 1 failed (plan: 4)')
    expect(detail).toContain('TAP1 of 3 sub-tests failed')
    expect(detail).toContain('TAPplanned 4 sub-tests but ran 3')
    expect(detail).toContain(`failing sub-test${xss}`)
    expect(await page.locator('#detail img').count()).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
    expect(errors).toEqual([])
  })

  it('a TAP flood (100k sub-tests, 48 MB of comments and other prints, a 300k-line YAML block, a 20 MiB line), and one whose plan comes last: counted right, memory bounded', async () => {
    const dir = tempDir()
    write(dir, 'quiet/test_quiet.t', 'print "1..1\\nok 1\\n";\n')
    write(dir, 'flood/test_flood.t', `$| = 1;
print "TAP version 13\\n1..100001\\n";
print "ok $_ - point $_\\n" for 1..100000;
print "# a comment line that repeats over and over again\\n" x 500000;
print "garbage that is not TAP at all, printed by the code under test\\n" x 500000;
print "  ---\\n", ("  stack: a yaml line inside one huge diagnostic block\\n" x 300000), "  ...\\n";
print "x" x (20 * 1024 * 1024), "\\n";
print "not ok 100001 - the last one fails\\n";
`)
    const measure = async (path: string): Promise<{ maxRssKiB: number; tests: TestResult[] }> =>
      JSON.parse((await promisify(execFile)(process.execPath, [RSS_RUN, dir, path, join(dir, `out-${path}`), String(1024 * 1024)], { maxBuffer: 64 * 1024 * 1024 })).stdout)
    // Not a .t, so read in auto mode: nothing confirms it is TAP until its plan, printed last.
    write(dir, 'late-plan.pl', `$| = 1;
print "ok $_ - point $_\\n" for 1..100000;
print "garbage that is not TAP at all, printed by the code under test\\n" x 500000;
print "x" x (20 * 1024 * 1024), "\\n";
print "not ok 100001 - the last one fails\\n1..100001\\n";
`)
    write(dir, 'late/test_late_plan.sh', 'exec perl late-plan.pl\n')
    const quiet = await measure('quiet')
    for (const path of ['flood', 'late']) {
      const flood = await measure(path)
      const s = flood.tests[0]!.subtests!
      expect(flood.tests[0]!.status, path).toBe('failed')
      expect(s, path).toMatchObject({ passed: 100000, failed: 1, planned: 100001, failures: ['the last one fails'] })
      expect(s.tests, path).toHaveLength(1000)
      const riseMiB = (flood.maxRssKiB - quiet.maxRssKiB) / 1024
      console.log(`peak RSS: quiet TAP ${(quiet.maxRssKiB / 1024).toFixed(1)} MiB, TAP flood (${path}) ${(flood.maxRssKiB / 1024).toFixed(1)} MiB (+${riseMiB.toFixed(1)} MiB)`)
      expect(riseMiB, path).toBeLessThan(64)
    }
  }, 120_000)
})
