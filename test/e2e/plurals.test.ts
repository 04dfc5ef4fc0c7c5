import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir, write } from '../support/helpers.js'

describe('counts are said in the right number', () => {
  it('a run of one test on one worker says "1 test" and "1 worker" in its lines, its summary and summary.txt', async () => {
    const dir = tempDir()
    write(dir, 't/test_one.sh', 'echo one\n')
    const r = await runCli(['run', 't', '--out', 'out', '--no-history', '--summary', 'full'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    const summaryTxt = readFileSync(join(dir, 'out', 'summary.txt'), 'utf8')
    expect(r.stdout).toMatch(/^claimrun: 1 test on 1 worker, order /m)
    for (const text of [r.stdout, summaryTxt]) {
      expect(text).toMatch(/^├── run_tests \(parallel, 1 worker\)$/m)
      expect(text).toMatch(/^│ {3}└── worker01 +1 test +1 passed/m)
      expect(text).toMatch(/^└── summary {2}1 test$/m)
      expect(text).toMatch(/^1 passed, 0 failed - 1 test in .* on 1 worker$/m)
      expect(text).not.toMatch(/\b1 (tests|workers)\b/)
    }
    const list = await runCli(['run', 't', '--list'], { cwd: dir })
    expect(list.stdout).toMatch(/^claimrun: 1 test in claim order/)
  })

  it('an output cap of one byte says "1 byte" in the worker log', async () => {
    const dir = tempDir()
    write(dir, 't/test_one.sh', 'printf ab\n')
    const r = await runCli(['run', 't', '--out', 'out', '--no-history', '--max-output', '1'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(join(dir, 'out', 'worker01.log'), 'utf8')).toContain('[claimrun: output capped at 1 byte; 1 more byte dropped]')
  })

  it('two of each: "2 tests", "2 workers"', async () => {
    const dir = tempDir()
    write(dir, 't/test_one.sh', 'echo one\n')
    write(dir, 't/test_two.sh', 'echo two\n')
    const r = await runCli(['run', 't', '--out', 'out', '--no-history', '-w', '2'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^claimrun: 2 tests on 2 workers, order /m)
    expect(r.stdout).toMatch(/^2 passed, 0 failed - 2 tests in .* on 2 workers$/m)
  })
})
