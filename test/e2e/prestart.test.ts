import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { prestartLanes } from '../../dist/src/cli/prestart-args.js'
import { DEFAULTS } from '../../dist/src/options/defaults.js'
import { runCli, tempDir, write } from '../support/helpers.js'

describe('worker threads started while the CLI loads', () => {
  it('the entry reads how many threads a run will use from its arguments, or starts none when unsure', () => {
    const dir = tempDir()
    write(dir, 'a.sh', 'exit 0\n')
    write(dir, 'b.sh', 'exit 0\n')
    mkdirSync(join(dir, 'suite'))
    write(dir, 'one/test_1.sh', 'exit 0\n')
    write(dir, 'nested/a/test_1.sh', 'exit 0\n')
    write(dir, 'nested/b/c/test_2.sh', 'exit 0\n')
    for (let i = 1; i <= 7; i++) write(dir, `big/sub/test_${i}.sh`, 'exit 0\n')
    expect(DEFAULTS.workers).toBe(3)
    const cases: Array<[string[], { threads: number; max: number } | null]> = [
      [['run'], { threads: 3, max: 3 }],
      // A folder's files, counted up to --workers, bound its tests: no thread for a test that cannot exist.
      [['run', 'suite'], null],
      [['run', 'one'], { threads: 1, max: 3 }],
      [['run', 'nested'], { threads: 2, max: 3 }],
      [['run', 'big'], { threads: 3, max: 3 }],
      [['run', '-w', '5', 'big'], { threads: 5, max: 5 }],
      [['run', '-w', '5', 'nested', 'one'], { threads: 3, max: 5 }],
      [['run', '-w5', 'a.sh'], { threads: 1, max: 5 }],
      [['run', 'a.sh'], { threads: 1, max: 3 }],
      [['run', '--workers=2', 'a.sh', 'b.sh', 'suite'], { threads: 2, max: 2 }],
      [['run', '--out', 'suite', '--bail', '2', 'a.sh', '--no-history', 'b.sh'], { threads: 2, max: 3 }],
      [['run', '--bail', '3', 'a.sh'], { threads: 1, max: 3 }],
      [['run', '--json', 'suite', 'a.sh'], { threads: 1, max: 3 }],
      [['run', '--json', '--grep', 'x', 'a.sh'], { threads: 1, max: 3 }],
      [['run', '--env', 'A=1', 'a.sh'], null],
      [['run', '--list', 'suite'], null],
      [['run', '--', 'a.sh'], { threads: 1, max: 3 }],
      [['run', 'missing.sh'], null],
      [['run', '-w', 'abc', 'suite'], null],
      [['run', '-w'], null],
      [['run', '--help'], null],
      [['bench'], null],
      [[], null],
    ]
    for (const [argv, expected] of cases) expect(prestartLanes(argv, dir), argv.join(' ')).toEqual(expected)
  })

  it('a usage error while prestarted threads boot: one line, exit 2, never a signal', async () => {
    const dir = tempDir()
    write(dir, 'suite/test_1.sh', 'exit 0\n')
    mkdirSync(join(dir, 'empty'))
    // Each of these (but `empty`, which holds no file) starts threads first, then fails on what only the CLI checks.
    const attempts: Array<[string[], RegExp]> = [
      [['run', 'suite', '--order', 'bogus'], /^claimrun: option '--order <mode>' argument 'bogus' is invalid/],
      [['run', 'suite', '--timeout', '-1'], /--timeout/],
      [['run', 'empty'], /no tests/i],
      [['run', 'suite', '--frobnicate'], /unknown option '--frobnicate'/],
    ]
    for (let round = 0; round < 3; round++) {
      for (const [args, message] of attempts) {
        const r = await runCli([...args, '--out', join(dir, 'out')], { cwd: dir })
        expect({ args, code: r.code, signal: r.signal }).toEqual({ args, code: 2, signal: null })
        expect(r.stdout).toBe('')
        expect(r.stderr).toMatch(message)
        expect(r.stderr.trim().split('\n')).toHaveLength(1)
      }
    }
  }, 120_000)

  it('more threads guessed than tests: the prestarted pool is used (its extra threads idle), the run lists only its lanes', async () => {
    const dir = tempDir()
    write(dir, 'suite/test_only.sh', 'printf "%s" "$CLAIMRUN_WORKER" > seen\n')
    for (let round = 0; round < 4; round++) {
      const r = await runCli(['run', 'suite', '--workers', '3', '--no-history', '--out', join(dir, 'out')], { cwd: dir })
      expect({ round, code: r.code, signal: r.signal }, r.stderr).toEqual({ round, code: 0, signal: null })
      const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { workers: string[]; counts: { passed: number } }
      expect(results.workers).toEqual(['worker01'])
      expect(results.counts.passed).toBe(1)
      expect(readFileSync(join(dir, 'seen'), 'utf8')).toBe('worker01')
    }
  }, 120_000)

  it('a guess with too few threads (the config file asks for more): that pool is ended once booted, a new one runs every lane', async () => {
    const dir = tempDir()
    for (let i = 1; i <= 5; i++) write(dir, `suite/test_${i}.sh`, 'printf "%s\\n" "$CLAIMRUN_WORKER" >> seen\n')
    write(dir, 'claimrun.config.json', JSON.stringify({ workers: 5 }))
    // Ending a pool while its threads still load the worker module aborted the process (V8 fatal,
    // SIGABRT) about one time in six: several rounds, each must end by its exit code.
    for (let round = 0; round < 6; round++) {
      const r = await runCli(['run', 'suite', '--no-history', '--out', join(dir, 'out')], { cwd: dir })
      expect({ round, code: r.code, signal: r.signal }, r.stderr).toEqual({ round, code: 0, signal: null })
      const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { workers: string[]; counts: { passed: number } }
      expect(results.workers).toEqual(['worker01', 'worker02', 'worker03', 'worker04', 'worker05'])
      expect(results.counts.passed).toBe(5)
    }
  }, 120_000)
})
