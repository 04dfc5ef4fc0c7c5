import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ClaimrunError, listTests, run, type RunEvent, type RunOptions, type RunResult, type TestResult } from 'claimrun'
import { tempDir, write } from '../support/helpers.js'

/** run() with options the types do not allow, as a JavaScript caller (or a cast) can pass them. */
const runLoose = (options: Record<string, unknown>): Promise<RunResult> => run(options as RunOptions)

describe('run() refuses what it does not know', () => {
  it('an unknown option key is a ClaimrunError naming it, with the closest key; nothing runs', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.sh', `touch '${join(dir, 'ran')}'\n`)
    const err = await runLoose({ paths: ['t'], cwd: dir, history: false, workres: 2 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClaimrunError)
    expect(err).toMatchObject({ code: 'CLAIMRUN_BAD_OPTION' })
    expect((err as Error).message).toBe('unknown option "workres" (did you mean "workers"?); the options are the RunOptions of claimrun\'s types, claimrun run\'s flags in camelCase')
    const far = await runLoose({ paths: ['t'], cwd: dir, bogus: 1 }).catch((e: unknown) => e)
    expect((far as Error).message).toMatch(/^unknown option "bogus"; the options are/)
    expect(() => listTests({ paths: ['t'], cwd: dir, failOnFlakey: true } as RunOptions)).toThrow('unknown option "failOnFlakey" (did you mean "failOnFlaky"?)')
    expect(existsSync(join(dir, 'ran'))).toBe(false)
  })
})

describe('run() events', () => {
  /** Every event of a run, and the run's result or error. */
  async function events(options: RunOptions): Promise<{ seen: RunEvent[]; result?: RunResult; error?: unknown }> {
    const seen: RunEvent[] = []
    try {
      return { seen, result: await run({ ...options, onEvent: (e) => seen.push(e) }) }
    } catch (error) {
      return { seen, error }
    }
  }
  const ends = (seen: RunEvent[]): TestResult[] => seen.flatMap((e) => (e.type === 'test:end' ? [e.test] : []))

  it('one test:end per test that gets an outcome, notrun included (--bail), before run:end, matching the result', async () => {
    const dir = tempDir()
    for (const n of [1, 2, 3, 4]) write(dir, `t/test_${n}.sh`, 'exit 1\n')
    const { seen, result } = await events({ paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 1, bail: 1, order: 'given', history: false })
    expect(result!.tests.map((t) => t.status)).toEqual(['failed', 'notrun', 'notrun', 'notrun'])
    expect(ends(seen).map((t) => `${t.id} ${t.status}`)).toEqual(result!.tests.map((t) => `${t.id} ${t.status}`))
    expect(seen.at(-1)?.type).toBe('run:end')
  })

  it('an interrupt before any test ran: every test ends notrun, each with its test:end', async () => {
    const dir = tempDir()
    for (const n of [1, 2]) write(dir, `t/test_${n}.sh`, 'exit 0\n')
    const stop = new AbortController()
    stop.abort()
    const { seen, result } = await events({ paths: ['t'], cwd: dir, out: join(dir, 'out'), history: false, signal: stop.signal })
    expect(result!.tests.map((t) => t.status)).toEqual(['notrun', 'notrun'])
    expect(ends(seen).map((t) => t.status)).toEqual(['notrun', 'notrun'])
  })

  it('a failed --setup: a test:end (notrun) per test, then the CLAIMRUN_SETUP_FAILED rejection carrying the result', async () => {
    const dir = tempDir()
    for (const n of [1, 2, 3]) write(dir, `t/test_${n}.sh`, 'exit 0\n')
    const { seen, error } = await events({ paths: ['t'], cwd: dir, out: join(dir, 'out'), history: false, order: 'given', setup: 'false' })
    expect(error).toMatchObject({ code: 'CLAIMRUN_SETUP_FAILED' })
    const result = (error as Error).cause as RunResult
    expect(result.tests.map((t) => t.status)).toEqual(['notrun', 'notrun', 'notrun'])
    expect(ends(seen).map((t) => `${t.id} ${t.status} ${t.error}`)).toEqual([1, 2, 3].map((n) => `t/test_${n}.sh notrun not run: the setup failed (exit 1)`))
  })

  it('an onEvent that throws on those ends changes nothing: the same rejection, the throw recorded as an internal error', async () => {
    const dir = tempDir()
    write(dir, 't/test_1.sh', 'exit 0\n')
    const error = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), history: false, setup: 'false', onEvent: () => { throw new Error('reporter bug') } }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'CLAIMRUN_SETUP_FAILED' })
    expect(((error as Error).cause as RunResult).internalErrors).toEqual(['onEvent threw on test:end: reporter bug'])
  })
})
