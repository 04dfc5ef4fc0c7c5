import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run, type RunEvent } from 'claimrun'
import { readLines, runCli, tempDir, write } from '../support/helpers.js'

/** Shell tests that append their id to `order` when they start. */
function suite(names: string[], body = 'exit 0'): { dir: string; order: string } {
  const dir = tempDir()
  const order = join(dir, 'order')
  for (const name of names) write(dir, `t/${name}`, `echo "$CLAIMRUN_TEST" >> '${order}'\n${body}\n`)
  return { dir, order }
}

const entry = (avgMs: number, lastStatus: string) => ({ avgMs, recentMs: [avgMs], lastStatus, lastRunAt: '2026-01-01T00:00:00.000Z' })

describe('order from history', () => {
  it('smart: failed last time first (longest first), then tests with no history, then longest first', async () => {
    const { dir, order } = suite(['a.sh', 'b.sh', 'c.sh', 'd.sh', 'e.sh', 'f.sh', 'g.sh'].map((n) => `test_${n}`))
    const history = join(dir, 'history.json')
    writeFileSync(history, JSON.stringify({
      version: 1,
      tests: {
        't/test_a.sh': entry(100, 'passed'),
        't/test_b.sh': entry(50, 'failed'),
        't/test_c.sh': entry(900, 'passed'),
        't/test_e.sh': entry(500, 'flaky'),
        't/test_f.sh': entry(70, 'timedout'),
        't/test_g.sh': entry(900, 'passed'),
      },
    }))
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 1, history })
    expect(readLines(order)).toEqual(['t/test_f.sh', 't/test_b.sh', 't/test_d.sh', 't/test_c.sh', 't/test_g.sh', 't/test_e.sh', 't/test_a.sh'])
    expect(result.order).toEqual({ mode: 'smart' })
    // The history now holds every test, with its new duration folded into the average and its status.
    const after = JSON.parse(readFileSync(history, 'utf8'))
    expect(Object.keys(after.tests).sort()).toHaveLength(7)
    expect(after.tests['t/test_b.sh'].lastStatus).toBe('passed')
    expect(after.tests['t/test_b.sh'].recentMs).toHaveLength(2)
    expect(after.tests['t/test_d.sh'].recentMs).toHaveLength(1)
  })

  it('given keeps path order; random is repeatable from its printed seed', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `test_${i + 1}.sh`)
    const { dir, order } = suite(names)
    await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 1, order: 'given', history: false })
    expect(readLines(order)).toEqual(names.map((n) => `t/${n}`))
    const first = await runCli(['run', 't', '--workers', '1', '--order', 'random', '--no-history', '--out', join(dir, 'o1')], { cwd: dir })
    const seed = Number(/order random \(seed (\d+)\)/.exec(first.stdout)?.[1])
    expect(seed).toBeGreaterThanOrEqual(0)
    const firstOrder = readLines(order).slice(12)
    const again = await run({ paths: ['t'], cwd: dir, out: join(dir, 'o2'), workers: 1, order: 'random', seed, history: false })
    expect(readLines(order).slice(24)).toEqual(firstOrder)
    expect(again.order).toEqual({ mode: 'random', seed })
    expect(firstOrder).not.toEqual(names.map((n) => `t/${n}`))
    expect([...firstOrder].sort()).toEqual(names.map((n) => `t/${n}`).sort())
  })

  it('a corrupt or foreign history file: one-line warning, the run goes on, the file is replaced', async () => {
    const { dir } = suite(['test_a.sh'])
    const history = join(dir, 'history.json')
    for (const junk of ['{not json', JSON.stringify({ version: 7, something: 'else' })]) {
      writeFileSync(history, junk)
      const r = await runCli(['run', 't', '--history', history, '--out', join(dir, 'out')], { cwd: dir })
      expect(r.code).toBe(0)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^claimrun: warning: ignoring history .*history\.json \(.*\); it will be replaced after this run$/m)
      expect(JSON.parse(readFileSync(history, 'utf8')).tests['t/test_a.sh'].lastStatus).toBe('passed')
    }
  })
})

describe('--last-failed, --bail, --retries, --shard', () => {
  it('--last-failed runs only what did not pass last time, or everything when nothing failed', async () => {
    const dir = tempDir()
    const order = join(dir, 'order')
    for (const n of [1, 2, 3, 4]) write(dir, `t/test_${n}.sh`, `echo "$CLAIMRUN_TEST" >> '${order}'\n[ -e '${dir}/fix' ] || exit ${n % 2}\n`)
    const first = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out') })
    expect(first.counts).toMatchObject({ passed: 2, failed: 2 })
    const second = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), lastFailed: true })
    expect(second.tests.map((t) => t.id).sort()).toEqual(['t/test_1.sh', 't/test_3.sh'])
    write(dir, 'fix', '')
    const third = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), lastFailed: true })
    expect(third.tests.map((t) => t.id).sort()).toEqual(['t/test_1.sh', 't/test_3.sh'])
    expect(third.counts.passed).toBe(2)
    const fourth = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), lastFailed: true })
    expect(fourth.tests).toHaveLength(4)
  })

  it('--bail 1: after the first failure no test is started; running ones finish; the rest are notrun', async () => {
    const dir = tempDir()
    // test_1 fails only once test_2 is running; test_2 then runs on through the bail.
    write(dir, 't/test_1.sh', `while [ ! -e '${dir}/started2' ]; do sleep 0.02; done\nexit 1\n`)
    write(dir, 't/test_2.sh', `: > '${dir}/started2'\nwhile [ ! -e '${dir}/bailed' ]; do sleep 0.02; done\necho finished\n`)
    for (let i = 3; i <= 8; i++) write(dir, `t/test_${i}.sh`, 'exit 0\n')
    const events: RunEvent[] = []
    const result = await run({
      paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 2, order: 'given', history: false, bail: 1,
      // test_2 holds its worker until the bail has happened, so it is provably running through it.
      onEvent: (e) => {
        events.push(e)
        if (e.type === 'run:bail') write(dir, 'bailed', '')
      },
    })
    const status = Object.fromEntries(result.tests.map((t) => [t.id, t.status]))
    expect(status['t/test_1.sh']).toBe('failed')
    expect(status['t/test_2.sh']).toBe('passed')
    for (let i = 3; i <= 8; i++) expect(status[`t/test_${i}.sh`]).toBe('notrun')
    expect(result.bailed).toBe(true)
    expect(result.exitCode).toBe(1)
    expect(events.filter((e) => e.type === 'run:bail')).toEqual([{ type: 'run:bail', failures: 1 }])
  })

  it('--retries: a test that fails once then passes is flaky (exit 0), retried on another worker; --fail-on-flaky makes it exit 1', async () => {
    for (const failOnFlaky of [false, true]) {
      const dir = tempDir()
      const seen = join(dir, 'workers')
      write(dir, 't/test_1.sh', `echo "$CLAIMRUN_WORKER" >> '${seen}'\nif [ ! -e '${dir}/once' ]; then : > '${dir}/once'; echo "first try fails"; exit 1; fi\necho "second try passes"\n`)
      // The others end only once both workers have started something, so the retry has another worker to go to.
      for (let i = 2; i <= 5; i++) write(dir, `t/test_${i}.sh`, `echo "$CLAIMRUN_WORKER" >> '${seen}'\nuntil [ "$(sort -u '${seen}' | wc -l)" -ge 2 ] || [ ! -d '${dir}' ]; do sleep 0.05; done\n`)
      const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 2, order: 'given', history: false, retries: 2, failOnFlaky })
      const t1 = result.tests[0]!
      expect(t1).toMatchObject({ status: 'flaky', attempts: 2 })
      expect(t1.previousAttempts).toHaveLength(1)
      expect(t1.previousAttempts?.[0]).toMatchObject({ status: 'failed', exitCode: 1, attempts: 1 })
      expect(t1.previousAttempts?.[0]?.tail).toContain('first try fails')
      // (Which worker takes the retry depends on which is free first; the preference for another
      // worker is checked on the board itself, in test/unit/claims.test.ts.)
      expect(t1.tail).toContain('second try passes')
      expect(result.counts).toMatchObject({ flaky: 1, passed: 4 })
      expect(result.exitCode).toBe(failOnFlaky ? 1 : 0)
    }
  })

  it('--retries: a test that always fails ends failed after n + 1 attempts', async () => {
    const dir = tempDir()
    const order = join(dir, 'order')
    write(dir, 't/test_bad.sh', `echo x >> '${order}'\nexit 2\n`)
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), retries: 2, history: false })
    expect(result.tests[0]).toMatchObject({ status: 'failed', attempts: 3, exitCode: 2 })
    expect(result.tests[0]?.previousAttempts).toHaveLength(2)
    expect(readLines(order)).toHaveLength(3)
  })

  it('--shard i/n: every test in exactly one shard, the same split every time, balanced by history', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `test_${i + 1}.sh`)
    const { dir } = suite(names)
    const ids = (r: { tests: { id: string }[] }): string[] => r.tests.map((t) => t.id).sort()
    const split = async (history: string | false): Promise<string[][]> => {
      const shards: string[][] = []
      for (let i = 1; i <= 3; i++) shards.push(ids(await run({ paths: ['t'], cwd: dir, out: join(dir, `o${i}`), shard: `${i}/3`, history })))
      return shards
    }
    const byCount = await split(false)
    expect(byCount.map((s) => s.length)).toEqual([4, 4, 3])
    expect(byCount.flat().sort()).toEqual(names.map((n) => `t/${n}`).sort())
    expect(await split(false)).toEqual(byCount)
    // With history: one long test gets a shard to itself; the others share the rest evenly.
    const history = join(dir, 'history.json')
    writeFileSync(history, JSON.stringify({ version: 1, tests: Object.fromEntries(names.map((n, i) => [`t/${n}`, entry(i === 4 ? 5000 : 500, 'passed')])) }))
    const before = readFileSync(history, 'utf8')
    const balanced: string[][] = []
    for (let i = 1; i <= 3; i++) {
      balanced.push(ids(await run({ paths: ['t'], cwd: dir, out: join(dir, `h${i}`), shard: `${i}/3`, history })))
      writeFileSync(history, before) // each CI job starts from the same history
    }
    expect(balanced.flat().sort()).toEqual(names.map((n) => `t/${n}`).sort())
    expect(balanced.find((s) => s.includes('t/test_5.sh'))).toEqual(['t/test_5.sh'])
    expect(balanced.map((s) => s.length).sort()).toEqual([1, 5, 5])
  })

  it('--shard with bad input is a usage error', async () => {
    const { dir } = suite(['test_a.sh'])
    for (const bad of ['0/3', '4/3', 'x', '1/0']) {
      const r = await runCli(['run', 't', '--shard', bad], { cwd: dir })
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/--shard must be <i>\/<n> with 1 <= i <= n/)
    }
  })
})
