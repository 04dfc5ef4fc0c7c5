import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readResults, ROOT, runCli, tempDir, write } from '../support/helpers.js'

describe('the demo suite', () => {
  it('npx claimrun run fixtures/demo: 20 tests on 3 workers, 3 failures, exit 1 by design', async () => {
    const dir = tempDir()
    const out = join(dir, 'out')
    const suite = JSON.parse(readFileSync(join(ROOT, 'fixtures/demo/suite.json'), 'utf8'))
    const r = await runCli(['run', 'fixtures/demo', '--out', out, '--history', join(dir, 'history.json')], { cwd: ROOT })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    const results = readResults(out)
    expect(results.tests).toHaveLength(20)
    expect(results.counts).toMatchObject({ passed: 17, failed: 3 })
    const failing = suite.tests.filter((t: { fails: boolean }) => t.fails).map((t: { file: string }) => `fixtures/demo/${t.file}`)
    expect(results.tests.filter((t) => t.status === 'failed').map((t) => t.id).sort()).toEqual(failing.sort())
    expect(new Set(results.tests.map((t) => t.worker))).toEqual(new Set(['worker01', 'worker02', 'worker03']))
    // The summary: the pipeline tree, a row per test, each failure's output, the totals.
    expect(r.stdout).toMatch(/run \(serial\)[\s\S]*run_tests \(parallel, 3 workers\)[\s\S]*worker01[\s\S]*worker03[\s\S]*└── summary/)
    for (const id of failing) expect(r.stdout).toContain(`── failed: ${id}`)
    expect(r.stdout).toContain('AssertionError: expected 42, received 41')
    expect(r.stdout).toMatch(/^17 passed, 3 failed - 20 tests in .* on 3 workers$/m)
    expect(r.stdout.trim().split('\n').at(-1)).toBe(`report: ${out}/report.html`)
    expect(readFileSync(join(out, 'summary.txt'), 'utf8')).toContain('17 passed, 3 failed')
    for (const w of ['worker01', 'worker02', 'worker03']) expect(existsSync(join(out, `${w}.log`))).toBe(true)
  })

  it('generate: the same seed gives the same suite', async () => {
    const dir = tempDir()
    const a = await runCli(['generate', join(dir, 'a'), '--count', '7', '--failures', '2', '--seed', '42', '--lang', 'sh'])
    const b = await runCli(['generate', join(dir, 'b'), '--count', '7', '--failures', '2', '--seed', '42', '--lang', 'sh'])
    expect(a.code).toBe(0)
    expect(b.code).toBe(0)
    for (let i = 1; i <= 7; i++) {
      const name = `test_0${i}.sh`
      expect(readFileSync(join(dir, 'a', name), 'utf8')).toBe(readFileSync(join(dir, 'b', name), 'utf8'))
    }
    const run = await runCli(['run', join(dir, 'a'), '--out', join(dir, 'out')], { cwd: dir })
    expect(run.code).toBe(1)
    expect(readResults(join(dir, 'out')).counts).toMatchObject({ passed: 5, failed: 2 })
  })
})

describe('usage errors: one line, exit 2, nothing run', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a path that does not exist', ['run', 'no/such/dir'], /path not found: "no\/such\/dir"/],
    ['a folder with no tests', ['run', 'empty'], /no tests in "empty" with the default pattern .*--pattern/],
    ['a pattern that matches nothing', ['run', 't', '--pattern', '*.nothing'], /no tests in "t" with --pattern "\*\.nothing"/],
    ['--workers 0', ['run', 't', '--workers', '0'], /--workers must be a whole number from 1 to 1024, or auto .*\(received "0"\)/],
    ['--workers -1', ['run', 't', '--workers', '-1'], /--workers must be a whole number/],
    ['--workers 1.5', ['run', 't', '--workers', '1.5'], /--workers must be a whole number .*received "1\.5"/],
    ['--workers abc', ['run', 't', '--workers', 'abc'], /--workers must be a whole number from 1 to 1024, or auto .*\(received "abc"\)/],
    ['an unknown option', ['run', 't', '--frobnicate'], /unknown option '--frobnicate'/],
    ['an empty --cmd', ['run', 't', '--cmd', ''], /--cmd is empty/],
    ['--cmd with an unbalanced quote', ['run', 't', '--cmd', 'sh "{file}'], /unclosed " quote/],
    ['--timeout -1', ['run', 't', '--timeout', '-1'], /--timeout must be a duration such as 30 \(seconds\), 30s, 500ms or 2m \(received "-1"\)/],
    ['--timeout abc', ['run', 't', '--timeout', 'abc'], /--timeout must be a duration such as 30 \(seconds\), 30s, 500ms or 2m \(received "abc"\)/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['a file of unknown type', ['run', 't/test_x.txt'], /don't know how to run "t\/test_x\.txt".*--runner '\*\.txt=<interpreter> \{file\}'.*--cmd/],
  ]
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const dir = tempDir()
      write(dir, 't/test_a.sh', 'touch "$(dirname "$0")/../ran"\n')
      write(dir, 't/test_x.txt', 'data\n')
      write(dir, 'empty/readme.md', 'no tests here\n')
      const r = await runCli([...args, '--out', join(dir, 'out')].filter((_a, i, all) => !(all[0] === "frobnicate" && i > 0)), { cwd: dir })
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(message)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^claimrun: /)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(existsSync(join(dir, 'ran'))).toBe(false)
    })
  }

  it('an --out that cannot be written', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.sh', 'exit 0\n')
    write(dir, 'blocker', 'a file, not a folder\n')
    const r = await runCli(['run', 't', '--out', 'blocker/out'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^claimrun: cannot write to --out ".*blocker\/out" \(ENOTDIR: a file is in the way\); choose a writable folder with --out <dir>$/)
  })
})
