import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readLines, readResults, runCli, tempDir, witnessTest, write } from '../support/helpers.js'

/** Tests in tests/ (nested too), in other/, and one in other/ whose name says tests. */
function project(dir: string): string {
  const witness = join(dir, 'ran')
  for (const name of ['tests/test_a.sh', 'tests/deep/test_b.sh', 'other/test_c.sh', 'other/test_tests.sh']) write(dir, name, witnessTest(witness))
  return witness
}

const ran = (witness: string): string[] => (existsSync(witness) ? readLines(witness).map((l) => l.split(' ')[0] as string).sort() : [])

describe('filters say what they did', () => {
  it.each(['tests/', 'tests', './tests', 'tests/**'])('--exclude %s leaves out everything under the folder tests/', async (glob) => {
    const dir = tempDir()
    const witness = project(dir)
    const r = await runCli(['run', 'tests', 'other', '--exclude', glob, '--out', 'out', '--no-history'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    expect(ran(witness)).toEqual(['other/test_c.sh', 'other/test_tests.sh'])
  })

  it('a glob without / names a file or a folder at any depth; ./ or a / inside anchors it at the run\'s folder', async () => {
    const dir = tempDir()
    const witness = project(dir)
    const r = await runCli(['run', 'tests', 'other', '--exclude', 'deep', '--exclude', './other/test_c.sh', '--out', 'out', '--no-history'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(ran(witness)).toEqual(['other/test_tests.sh', 'tests/test_a.sh'])
  })

  it('a --grep or --exclude that matches no test: one warning line naming it, and the run goes on', async () => {
    const dir = tempDir()
    const witness = project(dir)
    const r = await runCli(['run', 'tests', 'other', '--grep', 'test_a', '--grep', 'no-such-test', '--exclude', 'spec/', '--exclude', 'other/**', '--out', 'out', '--no-history'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr.trim().split('\n')).toEqual([
      'claimrun: warning: --grep "no-such-test" matched none of the 4 tests found, ids such as "tests/deep/test_b.sh", so it kept nothing; claimrun run --list prints every id',
      'claimrun: warning: --exclude "spec/" matched none of the 4 tests found, ids such as "tests/deep/test_b.sh", so it left nothing out; claimrun run --list prints every id',
    ])
    expect(ran(witness)).toEqual(['tests/test_a.sh'])
    // The warnings are the run's: results.json keeps them too.
    expect((readResults(join(dir, 'out')) as unknown as { warnings: string[] }).warnings).toHaveLength(2)
  })

  it('--list warns the same way', async () => {
    const dir = tempDir()
    project(dir)
    const r = await runCli(['run', 'tests', '--exclude', 'test_z*', '--list'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^claimrun: warning: --exclude "test_z\*" matched none of the 2 tests found/)
  })
})

describe('--bail [n] takes only a number', () => {
  /** Three failing tests in t/ (and no test/ folder, so a run without a path is an error). */
  function failing(dir: string): string {
    const witness = join(dir, 'ran')
    for (const n of [1, 2, 3]) write(dir, `t/test_${n}.sh`, `echo "$CLAIMRUN_TEST" >> '${witness}'\nexit 1\n`)
    return witness
  }
  const statuses = (dir: string): string[] => readResults(join(dir, 'out')).tests.map((t) => t.status).sort()

  it('claimrun run --bail t: t is the path to run, and --bail means its default, 1', async () => {
    const dir = tempDir()
    failing(dir)
    const r = await runCli(['run', '--bail', 't', '-w', '1', '--order', 'given', '--out', 'out', '--no-history'], { cwd: dir })
    expect(r.code, r.stderr).toBe(1)
    expect(statuses(dir)).toEqual(['failed', 'notrun', 'notrun'])
  })

  it.each([[['--bail', '2', 't']], [['--bail=2', 't']], [['t', '--bail', '2']]])('%j: the number is --bail\'s', async (args) => {
    const dir = tempDir()
    failing(dir)
    const r = await runCli(['run', ...args, '-w', '1', '--order', 'given', '--out', 'out', '--no-history'], { cwd: dir })
    expect(r.code, r.stderr).toBe(1)
    expect(statuses(dir)).toEqual(['failed', 'failed', 'notrun'])
  })

  it('--bail 1.5 is still a bad --bail, not a path', async () => {
    const dir = tempDir()
    failing(dir)
    const r = await runCli(['run', '--bail', '1.5', 't'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^claimrun: --bail must be a whole number from 1 to \d+ \(received 1\.5\)/)
  })
})
