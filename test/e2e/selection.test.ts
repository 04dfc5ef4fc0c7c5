import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readLines, readResults, ROOT, runCli, tempDir, witnessTest, write } from '../support/helpers.js'

/** Five tests that each append their id to a witness file. */
function suite(dir: string): string {
  const witness = join(dir, 'ran')
  for (const name of ['test_a1.sh', 'test_a2.sh', 'test_b1.sh', 'test_c1.sh', 'slow/test_d1.sh']) write(dir, `t/${name}`, witnessTest(witness))
  return witness
}

const ran = (witness: string): string[] => (existsSync(witness) ? readLines(witness).map((l) => l.split(' ')[0] as string).sort() : [])

describe('--grep and --exclude pick tests by id', () => {
  it('text, /regex/ and globs, each repeatable: grep keeps any match, exclude drops any match', async () => {
    const dir = tempDir()
    const witness = suite(dir)
    const out = join(dir, 'out')
    const r = await runCli(['run', 't', '--grep', 'a', '--grep', '/_[cd]1\\.sh$/', '--exclude', 'test_a2.sh', '--exclude', 't/slow/**', '--out', out, '--no-history'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(ran(witness)).toEqual(['t/test_a1.sh', 't/test_c1.sh'])
    expect(readResults(out).tests.map((t) => t.id).sort()).toEqual(['t/test_a1.sh', 't/test_c1.sh'])
  })

  it('a selection that leaves nothing is a usage error, not a green run', async () => {
    const dir = tempDir()
    const witness = suite(dir)
    const r = await runCli(['run', 't', '--grep', 'nothing-like-this', '--no-history'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^claimrun: no tests left after --grep nothing-like-this \(5 found\); check them against the ids claimrun run --list prints$/)
    expect(ran(witness)).toEqual([])
  })

  it('a --grep regex that does not compile: one line, exit 2', async () => {
    const dir = tempDir()
    suite(dir)
    const r = await runCli(['run', 't', '--grep', '/[a/'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^claimrun: --grep "\/\[a\/" is not a valid regular expression .*drop the slashes to match plain text \(see claimrun run --help\)$/)
  })
})

describe('--list prints the claim plan and runs nothing', () => {
  /** History: b1 failed last time; a1 took 900 ms, c1 300 ms, a2 600 ms; slow/d1 has none. */
  function withHistory(dir: string): void {
    const entry = (avgMs: number, lastStatus: string): object => ({ avgMs, recentMs: [avgMs], lastStatus, lastRunAt: '2026-01-01T00:00:00.000Z' })
    write(dir, '.claimrun/history.json', JSON.stringify({
      version: 1,
      tests: { 't/test_a1.sh': entry(900, 'passed'), 't/test_a2.sh': entry(600, 'passed'), 't/test_b1.sh': entry(100, 'failed'), 't/test_c1.sh': entry(300, 'passed') },
    }))
  }

  it('as a table: failed last time, then no history, then longest first, with estimates', async () => {
    const dir = tempDir()
    const witness = suite(dir)
    withHistory(dir)
    const r = await runCli(['run', 't', '--list', '--workers', '2'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toBe('claimrun: 5 tests in claim order (order smart; the same for any number of workers: each free worker takes the next). Nothing was run.')
    expect(lines.slice(2).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      ['#', 'TEST', 'ESTIMATE', 'WHY HERE'],
      ['1', 't/test_b1.sh', '100 ms', 'failed last time: first, to learn soonest'],
      ['2', 't/slow/test_d1.sh', '-', 'no history: early, assumed long'],
      ['3', 't/test_a1.sh', '900 ms', 'longest first'],
      ['4', 't/test_a2.sh', '600 ms', 'longest first'],
      ['5', 't/test_c1.sh', '300 ms', 'longest first'],
    ])
    // Nothing ran, nothing was written.
    expect(ran(witness)).toEqual([])
    expect(existsSync(join(dir, '.claimrun/last-run'))).toBe(false)
  })

  it('--json for machines, with the shard and the selection applied', async () => {
    const dir = tempDir()
    const witness = suite(dir)
    withHistory(dir)
    const r = await runCli(['run', 't', '--exclude', 'test_c1.sh', '--shard', '1/2', '--list', '--json'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    const list = JSON.parse(r.stdout) as { version: number; shard: string; selected: number; order: { mode: string }; tests: Array<{ position: number; id: string; estimateMs: number | null; reason: string; argv: string[] }> }
    expect(list).toMatchObject({ version: 1, shard: '1/2', selected: 4, order: { mode: 'smart' } })
    // Longest first into the emptier shard: a1 (900) → 1, a2 (600) → 2, d1 (mean 533) → 2, b1 (100) → 1.
    expect(list.tests.map((t) => [t.position, t.id, t.estimateMs, t.reason])).toEqual([
      [1, 't/test_b1.sh', 100, 'failed-last-time'],
      [2, 't/test_a1.sh', 900, 'longest-first'],
    ])
    expect(list.tests[0]?.argv).toEqual(['sh', join(dir, 't/test_b1.sh')])
    expect(ran(witness)).toEqual([])
  })

  it('the demo suite lists its 20 tests', async () => {
    const dir = tempDir()
    const r = await runCli(['run', join(ROOT, 'fixtures/demo'), '--list', '--no-history'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim().split('\n')).toHaveLength(23)
  })
})

describe('discovery with --cmd, and files without a runner', () => {
  it('with --cmd every test-named file is a test whatever its extension; --pattern picks the kind', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.rb', 'puts 1\n')
    write(dir, 't/test_b.py', 'print(1)\n')
    const all = await runCli(['run', 't', '--cmd', 'ruby {file}', '--list', '--json'], { cwd: dir })
    expect(all.code, all.stderr).toBe(0)
    const listed = JSON.parse(all.stdout) as { tests: Array<{ id: string; argv: string[] }>; warnings: string[] }
    expect(listed.tests.map((t) => t.id).sort()).toEqual(['t/test_a.rb', 't/test_b.py'])
    expect(listed.warnings).toEqual([expect.stringMatching(/^--cmd "ruby \{file\}" runs every test, and they are of 2 kinds \(1 \.rb, 1 \.py\); pass --pattern "<glob>", such as "\*\.rb", to pick one kind$/)])

    const rb = await runCli(['run', 't', '--cmd', 'ruby {file}', '--pattern', '*.rb', '--list', '--json'], { cwd: dir })
    const only = JSON.parse(rb.stdout) as { tests: Array<{ id: string; argv: string[] }>; warnings: string[] }
    expect(only.tests).toEqual([expect.objectContaining({ id: 't/test_a.rb', argv: ['ruby', join(dir, 't/test_a.rb')] })])
    expect(only.warnings).toEqual([])

    // And it really runs them: sh stands in for an interpreter claimrun does not know.
    write(dir, 'u/test_c.rb', `echo ran > '${join(dir, 'c-ran')}'\n`)
    const r = await runCli(['run', 'u', '--cmd', 'sh {file}', '--no-history', '--out', join(dir, 'out')], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(join(dir, 'c-ran'), 'utf8')).toBe('ran\n')
  })

  it('files named like tests that have no runner: one warning line, count and the first few', async () => {
    const dir = tempDir()
    const witness = join(dir, 'ran')
    write(dir, 't/test_ok.sh', witnessTest(witness))
    for (const name of ['test_b.rb', 'test_c.rb', 'test_d.txt', 'test_e.dat']) write(dir, `t/${name}`, 'data\n')
    const r = await runCli(['run', 't', '--no-history', '--no-progress', '--out', join(dir, 'out')], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr.trim().split('\n')).toEqual([
      'claimrun: warning: 4 files named like tests but with no runner were skipped ("t/test_b.rb", "t/test_c.rb", "t/test_d.txt", and 1 more): add a runner for them, such as --runner \'*.rb=<interpreter> {file}\', or make them executable',
    ])
    expect(ran(witness)).toEqual(['t/test_ok.sh'])
  })

  it('a folder of tests that all lack a runner says so instead of "no tests"', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.rb', 'puts 1\n')
    const r = await runCli(['run', 't'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toBe('claimrun: no tests in "t": 1 file named like a test but with no runner was skipped ("t/test_a.rb"): add a runner for them, such as --runner \'*.rb=<interpreter> {file}\', or make them executable')
  })
})
