import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir, write } from '../support/helpers.js'

const TABLE_HEADER = /^TEST +WORKER +STATUS +DURATION +ATTEMPTS$/m

/** `count` quick tests; test_07 fails with a known line of output. */
function suite(dir: string, count: number): string[] {
  const ids: string[] = []
  for (let i = 1; i <= count; i++) {
    const name = `t/test_${String(i).padStart(2, '0')}.sh`
    write(dir, name, i === 7 ? 'echo "expected 1, got 2"\nexit 1\n' : 'exit 0\n')
    ids.push(name)
  }
  return ids
}

const count = (text: string, re: RegExp): number => text.match(new RegExp(re.source, `${re.flags.replace('g', '')}g`))?.length ?? 0

describe('a summary that scales', () => {
  it('40 tests without a terminal: a line per test, then no table; the slowest 10, the failure with its output, the totals; summary.txt has the whole table', async () => {
    const dir = tempDir()
    const ids = suite(dir, 40)
    const r = await runCli(['run', 't', '--out', 'out', '--no-history'], { cwd: dir })
    expect(r.code).toBe(1)
    // Each test has exactly one progress line, and there is no second listing.
    for (const id of ids) expect(count(r.stdout, new RegExp(`^\\[ ?\\d+/40\\] \\w+ +worker0\\d .*${id.replace('.', '\\.')}$`, 'm'))).toBe(1)
    expect(r.stdout).not.toMatch(TABLE_HEADER)
    expect(r.stdout).toContain('(40 tests: the table of all of them is in out/summary.txt and report.html; --summary full prints it here)')
    const slow = r.stdout.slice(r.stdout.indexOf('slowest 10 of 40:'))
    expect(slow.split('\n').slice(1, 11).every((l) => /^ +\d+ ms {2}worker0\d +t\/test_\d\d\.sh$/.test(l))).toBe(true)
    expect(r.stdout).toMatch(/── failed: t\/test_07\.sh {2}\(worker0\d, exit 1, \d+ ms\)\n {3}log: out\/worker0\d\.log .*\n {3}expected 1, got 2\n/)
    expect(r.stdout.trim().split('\n').at(-2)).toMatch(/^39 passed, 1 failed - 40 tests in .* on 3 workers$/)

    const file = readFileSync(join(dir, 'out', 'summary.txt'), 'utf8')
    expect(file).toMatch(TABLE_HEADER)
    for (const id of ids) expect(file).toMatch(new RegExp(`^${id.replace('.', '\\.')} +worker0\\d +(passed|failed) `, 'm'))

    // show: the same rule (more than 30 tests: no table unless asked); --summary full prints it.
    const shown = await runCli(['show', 'out'], { cwd: dir })
    expect(shown.stdout).not.toMatch(TABLE_HEADER)
    const full = await runCli(['show', 'out', '--summary', 'full'], { cwd: dir })
    expect(full.stdout).toBe(file)
  })

  it('--summary full prints the table after the lines; --summary short prints only what did not pass and progress', async () => {
    const dir = tempDir()
    const ids = suite(dir, 12)
    const full = await runCli(['run', 't', '--out', 'out', '--no-history', '--summary', 'full'], { cwd: dir })
    expect(full.stdout).toMatch(TABLE_HEADER)
    const short = await runCli(['run', 't', '--out', 'out', '--no-history', '--summary', 'short'], { cwd: dir })
    expect(short.code).toBe(1)
    expect(short.stdout).not.toMatch(TABLE_HEADER)
    expect(short.stdout).not.toMatch(/^\[ ?\d+\/12\] passed/m)
    expect(short.stdout).toMatch(/^\[ ?\d+\/12\] failed +worker0\d .* t\/test_07\.sh$/m)
    // A progress line per 2 tests (a tenth of 12, rounded up), the last at 12/12.
    const progress = short.stdout.match(/^progress: \d+\/12 done, [01] did not pass$/gm)!
    expect(progress.map((l) => Number(/(\d+)\//.exec(l)![1]))).toEqual([2, 4, 6, 8, 10, 12])
    expect(progress.at(-1)).toBe('progress: 12/12 done, 1 did not pass')
    expect(short.stdout).toMatch(/expected 1, got 2/)
    expect(ids).toHaveLength(12)
    const bad = await runCli(['run', 't', '--summary', 'long'], { cwd: dir })
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim()).toMatch(/^claimrun: option '--summary <mode>' argument 'long' is invalid\. Allowed choices are auto, full, short\./)
  })
})
