import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from 'claimrun'
import { readLines, tempDir, witnessTest, write } from '../support/helpers.js'

/** A suite of `count` shell tests, each appending "<id> <worker>" to one witness file. */
function witnessSuite(count: number): { dir: string; witness: string; out: string } {
  const dir = tempDir()
  const witness = join(dir, 'witness.txt')
  for (let i = 1; i <= count; i++) write(dir, `suite/test_${i}.sh`, witnessTest(witness))
  return { dir, witness, out: join(dir, 'out') }
}

function tally(lines: string[]): Map<string, number> {
  const seen = new Map<string, number>()
  for (const line of lines) {
    const id = line.split(' ')[0] as string
    seen.set(id, (seen.get(id) ?? 0) + 1)
  }
  return seen
}

describe('every test runs exactly once', () => {
  it('300 tests on 3 workers: each id once, all three workers used', async () => {
    const { dir, witness, out } = witnessSuite(300)
    const result = await run({ paths: ['suite'], cwd: dir, out, workers: 3 })
    const lines = readLines(witness)
    const seen = tally(lines)
    expect(lines).toHaveLength(300)
    expect(seen.size).toBe(300)
    expect([...seen.values()].every((n) => n === 1)).toBe(true)
    expect(new Set(lines.map((l) => l.split(' ')[1]))).toEqual(new Set(['worker01', 'worker02', 'worker03']))
    expect(result.counts.passed).toBe(300)
    expect(result.exitCode).toBe(0)
    // The recorded worker is the one the test itself saw in CLAIMRUN_WORKER.
    const byId = new Map(lines.map((l) => l.split(' ') as [string, string]))
    for (const t of result.tests) expect(t.worker).toBe(byId.get(t.id))
  })

  it('more workers than tests: each test once, no idle threads started', async () => {
    const { dir, witness, out } = witnessSuite(2)
    const result = await run({ paths: ['suite'], cwd: dir, out, workers: 8 })
    expect(readLines(witness)).toHaveLength(2)
    expect(result.workers).toEqual(['worker01', 'worker02'])
    expect(result.counts.passed).toBe(2)
  })

  it('one worker runs everything, in plan (natural) order', async () => {
    const { dir, witness, out } = witnessSuite(12)
    const result = await run({ paths: ['suite'], cwd: dir, out, workers: 1 })
    const lines = readLines(witness)
    expect(lines.map((l) => l.split(' ')[0])).toEqual(Array.from({ length: 12 }, (_, i) => `suite/test_${i + 1}.sh`))
    expect(new Set(lines.map((l) => l.split(' ')[1]))).toEqual(new Set(['worker01']))
    expect(result.workers).toEqual(['worker01'])
  })
})
