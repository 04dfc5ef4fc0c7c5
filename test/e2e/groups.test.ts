import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { run, type RunOptions } from 'claimrun'
import { readResults, runCli, tempDir, waitFor, write } from '../support/helpers.js'
import { spans, type Span } from '../support/witness.js'
import { openPage } from '../support/browser.js'

const DYING_WORKER = fileURLToPath(new URL('../support/dying-worker.mjs', import.meta.url))

interface Spec {
  /** The file's name under t/. */
  name: string
  /** The `claimrun:` header words, written as the file's first line. */
  header?: string
  seconds?: number
  /** Exit 1 on the first attempt (a retry then passes). */
  failFirst?: boolean
  /** Sleep for good on the first attempt (a timeout or an interrupt must end it). */
  hangFirst?: boolean
}

/** Writes the tests; each leaves "start/end <id> <worker> <pid> <ns>" lines in the witness file itself. */
function needSuite(dir: string, specs: Spec[]): string {
  const witness = join(dir, 'witness')
  const line = (what: string): string => `echo "${what} $CLAIMRUN_TEST $CLAIMRUN_WORKER $$ $(date +%s%N)" >> '${witness}'`
  for (const s of specs) {
    write(dir, `t/test_${s.name}`, [
      s.header ? `# claimrun: ${s.header}` : '# no needs',
      line('start'),
      'echo running',
      `trap '${line('end').replace(/'/g, `'\\''`)}; exit 143' TERM`,
      s.hangFirst ? `if [ "$CLAIMRUN_ATTEMPT" = 1 ]; then sleep 300 & wait $!; fi` : '',
      `sleep ${s.seconds ?? 0.05} & wait $!`,
      line('end'),
      s.failFirst ? '[ "$CLAIMRUN_ATTEMPT" = 1 ] && exit 1' : '',
      'exit 0',
    ].join('\n') + '\n')
  }
  return witness
}

/** The most spans (weighted) that ran at one moment: ends sort before starts at the same instant. */
function peak(all: Span[], weight: (s: Span) => number = () => 1): number {
  const events = all.flatMap((s) => [{ at: s.start, d: weight(s) }, { at: s.end ?? Infinity, d: -weight(s) }])
  events.sort((a, b) => a.at - b.at || a.d - b.d)
  let now = 0
  let most = 0
  for (const e of events) most = Math.max(most, (now += e.d))
  return most
}

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}.sh`)

function options(dir: string, extra: RunOptions = {}): RunOptions {
  return { paths: ['t'], cwd: dir, out: join(dir, 'out'), history: false, order: 'given', ...extra }
}

describe('lock groups, weights and serial tests', () => {
  it('never runs more than max tests of a group at once, run after run, under load', async () => {
    const dir = tempDir()
    const witness = needSuite(dir, [
      ...ids('db_', 8).map((name) => ({ name, seconds: 0.1 })),
      ...ids('port_', 4).map((name) => ({ name, header: 'group=port8080', seconds: 0.05 })),
      ...ids('free_', 6).map((name) => ({ name, seconds: 0.05 })),
    ])
    for (let round = 0; round < 3; round++) {
      const result = await run(options(dir, { workers: 4, groups: { db: { tests: ['t/test_db_*'], max: 2 } } }))
      expect(result.counts.passed).toBe(18)
    }
    const all = spans(witness)
    expect(all).toHaveLength(54)
    expect(peak(all.filter((s) => s.id.startsWith('t/test_db_')))).toBeLessThanOrEqual(2)
    expect(peak(all.filter((s) => s.id.startsWith('t/test_port_')))).toBe(1)
    const db = readResults(join(dir, 'out')).tests.find((t) => t.id === 't/test_db_01.sh')
    expect(db).toMatchObject({ groups: ['db'], weight: 1 })
  })

  it('never lets the running weights add up to more than --workers', async () => {
    const dir = tempDir()
    const weights: Record<string, number> = {}
    const specs: Spec[] = []
    for (let i = 1; i <= 12; i++) {
      const w = (i % 3) + 1
      const name = `w_${String(i).padStart(2, '0')}.sh`
      weights[`t/test_${name}`] = w
      // Half declare their weight in the file, half in the config.
      specs.push(i % 2 ? { name, header: `weight=${w}`, seconds: 0.08 } : { name, seconds: 0.08 })
    }
    const witness = needSuite(dir, specs)
    const byConfig = Object.fromEntries(Object.entries(weights).filter((_, i) => i % 2 === 1))
    for (let round = 0; round < 2; round++) {
      const result = await run(options(dir, { workers: 4, weights: byConfig }))
      expect(result.counts.passed).toBe(12)
      expect(result.tests.map((t) => [t.id, t.weight])).toEqual(Object.entries(weights))
    }
    expect(peak(spans(witness), (s) => weights[s.id] ?? 1)).toBeLessThanOrEqual(4)
  })

  it('finishes tests that share groups named in opposite orders, with each group still held once', async () => {
    const dir = tempDir()
    const witness = needSuite(dir, [
      ...ids('ab_', 4).map((name) => ({ name, header: 'group=g1,g2', seconds: 0.03 })),
      ...ids('ba_', 4).map((name) => ({ name, header: 'group=g2 group=g1', seconds: 0.03 })),
      ...ids('a_', 4).map((name) => ({ name, header: 'group=g1', seconds: 0.03 })),
      ...ids('b_', 4).map((name) => ({ name, header: 'group=g2', seconds: 0.03 })),
    ])
    const result = await run(options(dir, { workers: 4 }))
    expect(result.counts.passed).toBe(16)
    const all = spans(witness)
    expect(peak(all.filter((s) => !s.id.startsWith('t/test_b_')))).toBe(1)
    expect(peak(all.filter((s) => !s.id.startsWith('t/test_a_')))).toBe(1)
  })

  it('runs a serial test with nothing beside it', async () => {
    const dir = tempDir()
    const witness = needSuite(dir, [
      ...ids('x_', 6).map((name) => ({ name, seconds: 0.05 })),
      { name: 'x_03b.sh', header: 'serial', seconds: 0.1 },
    ])
    const result = await run(options(dir, { workers: 3 }))
    expect(result.counts.passed).toBe(7)
    const all = spans(witness)
    const serial = all.find((s) => s.id === 't/test_x_03b.sh') as Span
    const beside = all.filter((s) => s !== serial && s.start < (serial.end as number) && (s.end as number) > serial.start)
    expect(beside).toEqual([])
    expect(result.tests.find((t) => t.id === 't/test_x_03b.sh')).toMatchObject({ serial: true, weight: 3 })
  })

  it('starts a weight-3 test in a stream of 200 short tests within as many starts as it has tests before it, plus the workers', async () => {
    const dir = tempDir()
    const specs: Spec[] = ids('s_', 200).map((name) => ({ name, seconds: 0.01 }))
    // Given order: 50 short tests before it, 150 after.
    specs.push({ name: 's_050b.sh', header: 'weight=3', seconds: 0.01 })
    const witness = needSuite(dir, specs)
    const result = await run(options(dir, { workers: 4 }))
    expect(result.counts.passed).toBe(201)
    const all = spans(witness)
    const heavyAt = all.findIndex((s) => s.id === 't/test_s_050b.sh')
    expect(heavyAt).toBeLessThanOrEqual(50 + 4)
  })

  describe('every way a test ends gives its groups back', () => {
    it('a timeout: the other tests of its group run after it', async () => {
      const dir = tempDir()
      needSuite(dir, [{ name: 'db_1.sh', header: 'group=db', hangFirst: true }, ...ids('db_x', 3).map((name) => ({ name, header: 'group=db' }))])
      // Long enough that no quick test of the group times out beside CPU hogs.
      const result = await run(options(dir, { workers: 2, timeout: '3s', killGrace: 0 }))
      expect(result.counts).toMatchObject({ timedout: 1, passed: 3 })
    })

    it('a retry: the failed attempt gives its group back, and the retry takes it again', async () => {
      const dir = tempDir()
      const witness = needSuite(dir, [{ name: 'db_1.sh', header: 'group=db', failFirst: true }, ...ids('db_x', 3).map((name) => ({ name, header: 'group=db' }))])
      const result = await run(options(dir, { workers: 3, retries: 1 }))
      expect(result.counts).toMatchObject({ flaky: 1, passed: 3 })
      expect(peak(spans(witness))).toBe(1)
    })

    it('--bail: the run stops and ends, nothing of the group is left waiting', async () => {
      const dir = tempDir()
      needSuite(dir, [{ name: 'db_1.sh', header: 'group=db', failFirst: true }, ...ids('db_x', 3).map((name) => ({ name, header: 'group=db' }))])
      const result = await run(options(dir, { workers: 3, bail: 1 }))
      expect(result.bailed).toBe(true)
      // A test of the group may have started in the instant between the failure's end and the bail.
      expect(result.counts.failed).toBe(1)
      expect(result.counts.notrun).toBeGreaterThanOrEqual(2)
      expect(result.counts.passed + result.counts.notrun).toBe(3)
    })

    it('an interrupt: the held test is ended, the waiting ones are not run', async () => {
      const dir = tempDir()
      const witness = needSuite(dir, [{ name: 'db_1.sh', header: 'group=db weight=2', hangFirst: true }, ...ids('db_x', 3).map((name) => ({ name, header: 'group=db' }))])
      const stop = new AbortController()
      const running = run(options(dir, { workers: 3, killGrace: 0, signal: stop.signal }))
      await waitFor(() => existsSync(witness), 'the first test to start')
      stop.abort('SIGINT')
      const result = await running
      expect(result.interrupted).toBe('SIGINT')
      expect(result.counts).toMatchObject({ interrupted: 1, notrun: 3 })
    })

    it('a worker thread that dies: its group is free again, and its test runs again alone', async () => {
      const dir = tempDir()
      const witness = needSuite(dir, ids('db_', 5).map((name) => ({ name, header: 'group=db', seconds: 0.1 })))
      const result = await run({ ...options(dir, { workers: 3 }), _testOnlyWorker: { file: DYING_WORKER, data: { test: 't/test_db_02.sh', how: 'exit', attempts: 1 } } } as RunOptions)
      expect(result.counts.passed).toBe(5)
      expect(result.tests.find((t) => t.id === 't/test_db_02.sh')?.attempts).toBe(2)
      expect(peak(spans(witness).filter((s) => s.end !== null))).toBe(1)
    })
  })

  it('shows each test\'s needs in --list, its wait in its line, the slowest list and results.json, and a group\'s tests in one timeline lane', async () => {
    const dir = tempDir()
    needSuite(dir, [...ids('db_', 3).map((name) => ({ name, seconds: 0.2 })), { name: 'heavy.sh', header: 'weight=2', seconds: 0.4 }])
    // Last of the group in order, so it waits; it fails, so the summary describes it.
    write(dir, 't/test_db_04.sh', 'sleep 0.05\nexit 1\n')
    write(dir, 'claimrun.config.json', JSON.stringify({ groups: { db: { tests: ['t/test_db_*'] } } }))
    const list = await runCli(['run', 't', '-w', '3', '--no-history', '--order', 'given', '--list', '--json'], { cwd: dir })
    const listed = (JSON.parse(list.stdout) as { tests: Array<{ id: string; groups?: string[]; weight?: number; needs?: string[] }> }).tests
    expect(listed.find((t) => t.id === 't/test_db_01.sh')).toMatchObject({ groups: ['db'], weight: 1, needs: ['group db (config)'] })
    expect(listed.find((t) => t.id === 't/test_heavy.sh')).toMatchObject({ groups: [], weight: 2, needs: ['weight=2 (line 1)'] })
    const table = await runCli(['run', 't', '-w', '3', '--no-history', '--order', 'given', '--list'], { cwd: dir })
    expect(table.stdout).toMatch(/t\/test_db_02\.sh .*; needs group db \(config\)/)

    const ran = await runCli(['run', 't', '-w', '3', '--no-history', '--order', 'given', '--no-progress', '--out', 'out'], { cwd: dir })
    expect(ran.code).toBe(1)
    expect(ran.stdout).toMatch(/passed .* t\/test_db_03\.sh \(waited \d.* for group db\)\n/)
    expect(ran.stdout).toMatch(/t\/test_db_04\.sh.*\(worker0\d, exit 1, .*, waited \d.* for group db\)/)
    expect(ran.stdout).toMatch(/slowest[^]*t\/test_db_03\.sh \(waited \d.* for group db\)/)
    const db3 = readResults(join(dir, 'out')).tests.find((t) => t.id === 't/test_db_03.sh') as Record<string, unknown>
    expect(db3).toMatchObject({ groups: ['db'], weight: 1, waitedFor: 'group db' })
    expect(db3.waitMs).toBeGreaterThan(0)

    const { page, errors } = await openPage()
    await page.goto(`file://${join(dir, 'out', 'report.html')}`)
    const lane = await page.locator('.timeline rect.group-bar[data-group="db"]').evaluateAll((bars) => bars.map((b) => [Number(b.getAttribute('x')), Number(b.getAttribute('x')) + Number(b.getAttribute('width'))]))
    expect(lane).toHaveLength(4)
    const sorted = lane.sort((a, b) => (a[0] as number) - (b[0] as number))
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]![0]).toBeGreaterThanOrEqual(sorted[i - 1]![1]! - 0.5)
    // The weight-2 test's bar says so (the idle lane beside it is kept for it), in its label and its title.
    expect(await page.locator('.timeline text.bar-label[data-test="t/test_heavy.sh"]').textContent()).toBe('weight 2')
    expect(await page.locator('.timeline rect.bar[data-test="t/test_heavy.sh"] title').textContent()).toContain(', weight 2')
    expect(await page.locator('.timeline text.bar-label').count()).toBe(1)
    // The caption's bound counts the weight-2 test twice.
    expect(await page.locator('#makespan').textContent()).toContain('lower bound max(weighted sum/3, longest)')
    expect(errors).toEqual([])
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toContain('"waitedFor":"group db"')
  })

  it('keeps a test\'s wait for its group in the history, and the next smart order counts it, saying so in --list', async () => {
    const dir = tempDir()
    // db_01 holds the group until free.sh has started, so the claim that took free.sh passed db_02 over.
    write(dir, 't/test_db_01.sh', `until [ -e '${join(dir, 'free-started')}' ] || [ ! -d '${dir}' ]; do sleep 0.02; done\nsleep 0.2\n`)
    write(dir, 't/test_db_02.sh', 'sleep 0.05\n')
    write(dir, 't/test_free.sh', `: > '${join(dir, 'free-started')}'\n`)
    write(dir, 'claimrun.config.json', JSON.stringify({ groups: { db: { tests: ['t/test_db_*'] } } }))
    const ran = await runCli(['run', 't', '-w', '2', '--order', 'given', '--history', 'h.json', '--no-progress', '--out', 'out'], { cwd: dir })
    expect(ran.code).toBe(0)
    const waited = readResults(join(dir, 'out')).tests.find((t) => t.id === 't/test_db_02.sh') as Record<string, unknown>
    expect(waited).toMatchObject({ waitedFor: 'group db' })
    const history = JSON.parse(readFileSync(join(dir, 'h.json'), 'utf8')) as { tests: Record<string, Record<string, unknown>> }
    expect(history.tests['t/test_db_02.sh']).toMatchObject({ avgWaitMs: waited.waitMs, recentWaitMs: [waited.waitMs] })
    expect(history.tests['t/test_db_01.sh']).not.toHaveProperty('avgWaitMs')
    expect(history.tests['t/test_free.sh']).not.toHaveProperty('avgWaitMs')

    // A history saying db_02 waits 5 s: it counts as its estimate + 5 s and goes first; the chain counts as 0.3 s.
    const entry = (avgMs: number, wait = 0) => ({ avgMs, recentMs: [avgMs], lastStatus: 'passed', lastRunAt: '2026-12-07T00:00:00Z', ...(wait ? { avgWaitMs: wait, recentWaitMs: [wait] } : {}) })
    write(dir, 'h.json', JSON.stringify({ version: 1, tests: { 't/test_db_01.sh': entry(250), 't/test_db_02.sh': entry(50, 5000), 't/test_free.sh': entry(1000) } }))
    const listed = await runCli(['run', 't', '-w', '2', '--history', 'h.json', '--list', '--json'], { cwd: dir })
    const plan = (JSON.parse(listed.stdout) as { tests: Array<{ id: string; waitEstimateMs?: number; countedAs?: unknown }> }).tests
    expect(plan.map((t) => [t.id, t.countedAs, t.waitEstimateMs])).toEqual([
      ['t/test_db_02.sh', { ms: 5050, by: 'wait' }, 5000],
      ['t/test_free.sh', { ms: 1000, by: 'own' }, undefined],
      ['t/test_db_01.sh', { ms: 300, by: 'group', group: 'db' }, undefined],
    ])
    const table = await runCli(['run', 't', '-w', '2', '--history', 'h.json', '--list'], { cwd: dir })
    expect(table.stdout).toMatch(/1 +t\/test_db_02\.sh +50 ms +longest first, as 5\.05 s: its estimate \+ 5(\.00)? s waited for its needs \(recent runs\)/)
    expect(table.stdout).toMatch(/3 +t\/test_db_01\.sh +250 ms +longest first, as 300 ms: group db's work over its max, one chain/)
  })

  describe('a bad declaration is one line, exit 2, and runs nothing', () => {
    const cases: Array<[string, Record<string, unknown> | null, string, RegExp]> = [
      ['an unknown key in a header', null, '# claimrun: groop=db', /t\/test_a\.sh line 1: unknown claimrun: key "groop=db"/],
      ['a weight above --workers', null, '# claimrun: weight=9', /t\/test_a\.sh: weight 9 is more than the 3 workers/],
      ['a group with max 0', { groups: { db: { tests: ['t/**'], max: 0 } } }, '', /groups "db": max must be a whole number of 1 or more \(received 0\)/],
      ['an unknown key in a group', { groups: { db: { tests: ['t/**'], limit: 1 } } }, '', /groups "db": unknown key "limit"/],
      ['a glob that matches nothing', { serial: ['t/test_nothing_*.sh'] }, '', /the glob "t\/test_nothing_\*\.sh" matches no test file/],
    ]
    for (const [what, config, header, message] of cases) {
      it(what, async () => {
        const dir = tempDir()
        const witness = join(dir, 'witness')
        write(dir, 't/test_a.sh', `${header}\necho ran >> '${witness}'\n`)
        if (config) write(dir, 'claimrun.config.json', JSON.stringify(config))
        const { code, stderr } = await runCli(['run', 't', '-w', '3'], { cwd: dir })
        expect(code).toBe(2)
        expect(stderr.trim().split('\n')).toHaveLength(1)
        expect(stderr).toMatch(message)
        expect(existsSync(witness)).toBe(false)
      })
    }
  })
})
