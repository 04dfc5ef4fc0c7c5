import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ClaimrunError, run, type RunEvent, type RunOptions } from 'claimrun'
import { isAlive, readLines, readResults, tempDir, write } from '../support/helpers.js'

type Death = 'throw' | 'exit' | 'oom' | 'lose'
const DYING_WORKER = fileURLToPath(new URL('../support/dying-worker.mjs', import.meta.url))
/** claimrun's one test-only seam (run()'s internal `_testOnlyWorker`): a worker that dies on cue. */
const dying = (options: RunOptions, test: string, how: Death, attempts: number): RunOptions =>
  ({ ...options, _testOnlyWorker: { file: DYING_WORKER, data: { test, how, attempts } } }) as RunOptions

/** Each test records "<id> <worker> <attempt> <pid>" when it starts, sleeps a little, and passes. */
function suite(count: number, hangFirst = ''): { dir: string; witness: string } {
  const dir = tempDir()
  const witness = join(dir, 'witness')
  for (let i = 1; i <= count; i++) {
    write(dir, `t/test_${i}.sh`, [
      // A later attempt checks that the earlier one is no longer alive: never two live runs.
      `for pid in $(awk -v id="$CLAIMRUN_TEST" '$1 == id { print $4 }' '${witness}' 2>/dev/null); do`,
      `  if [ -e /proc/$pid ] && ! grep -q ') Z' /proc/$pid/stat; then echo "OVERLAP $pid" >> '${witness}'; fi`,
      'done',
      `echo "$CLAIMRUN_TEST $CLAIMRUN_WORKER $CLAIMRUN_ATTEMPT $$" >> '${witness}'`,
      'echo running',
      // The first attempt would hang for good if its process were not ended.
      `if [ "$CLAIMRUN_ATTEMPT" = 1 ] && [ "$CLAIMRUN_TEST" = '${hangFirst}' ]; then sleep 300; fi`,
      'sleep 0.2',
    ].join('\n') + '\n')
  }
  return { dir, witness }
}

describe('a worker thread that dies', () => {
  for (const how of ['throw', 'exit', 'oom'] as const) {
    it(`${how}: the test's process is ended, its claim handed back, a replacement runs it again (attempts: 2)`, async () => {
      const { dir, witness } = suite(6, 't/test_3.sh')
      const events: RunEvent[] = []
      const result = await run(dying({ paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 2, onEvent: (e) => events.push(e) }, 't/test_3.sh', how, 1))
      const t3 = result.tests.find((t) => t.id === 't/test_3.sh')!
      expect(t3).toMatchObject({ status: 'passed', attempts: 2 })
      expect(t3.notes?.[0]).toMatch(/^attempt 1: worker0\d died while running it/)
      expect(result.counts.passed).toBe(6)
      expect(result.exitCode).toBe(0)
      expect(readLines(witness).filter((l) => l.startsWith('OVERLAP'))).toEqual([])
      const lines = readLines(witness).map((l) => l.split(' '))
      // Every other test once; test_3 twice, attempt 1 then 2, and the first run's process is gone.
      expect(lines.filter((l) => l[0] !== 't/test_3.sh').map((l) => l[0]).sort()).toEqual(['t/test_1.sh', 't/test_2.sh', 't/test_4.sh', 't/test_5.sh', 't/test_6.sh'])
      const runs = lines.filter((l) => l[0] === 't/test_3.sh')
      expect(runs.map((l) => l[2])).toEqual(['1', '2'])
      expect(isAlive(Number(runs[0]?.[3]))).toBe(false)
      expect(events.filter((e) => e.type === 'worker:crash')).toHaveLength(1)
      expect(readResults(join(dir, 'out')).tests).toHaveLength(6)
    })
  }

  it('a test that kills its worker twice ends as error with the reason; the run goes on', async () => {
    const { dir, witness } = suite(4)
    const result = await run(dying({ paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 2 }, 't/test_2.sh', 'exit', 99))
    const t2 = result.tests.find((t) => t.id === 't/test_2.sh')!
    expect(t2.status).toBe('error')
    expect(t2.attempts).toBe(2)
    expect(t2.error).toMatch(/its worker thread died 2 times: worker exited with code: 70/)
    expect(result.counts).toMatchObject({ passed: 3, error: 1 })
    expect(readLines(witness).filter((l) => l.startsWith('t/test_2.sh '))).toHaveLength(2)
    expect(readLines(witness).filter((l) => l.startsWith('OVERLAP'))).toEqual([])
    expect(result.exitCode).toBe(1)
  })

  it('a lane that returns still holding a claim (a runner bug) is caught: loud exit-2 error, results.json still whole', async () => {
    const { dir } = suite(3)
    const out = join(dir, 'out')
    const err = await run(dying({ paths: ['t'], cwd: dir, out, workers: 2 }, 't/test_2.sh', 'lose', 1)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClaimrunError)
    expect((err as ClaimrunError).code).toBe('CLAIMRUN_INTERNAL')
    const results = readResults(out)
    expect(results.tests).toHaveLength(3)
    expect(results.tests.find((t) => t.id === 't/test_2.sh')?.status).toBe('error')
  })
})
