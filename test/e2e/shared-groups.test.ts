import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { RedisStore } from '../../dist/src/store/redis-store.js'
import { describe, expect, it, onTestFinished } from 'vitest'
import { pidsIn, readLines, readResults, runCli, tempDir, waitFor, write } from '../support/helpers.js'
import { startRedis } from '../support/redis.js'
import { spans, startRunner, stillAlive, startTimeOf, type Span } from '../support/witness.js'

interface Spec {
  id: string
  /** Do not end before every one of these nodes has started a test (so no node drains the run alone). */
  nodes?: string[]
  /** Hang on the first attempt (until the runner's watchdog ends it), writing its pid to victim.pid. */
  hangFirst?: boolean
}

/** Tests that leave "start/end <id> <worker> <pid> <ns>" lines in the witness file themselves. */
function suite(dir: string, specs: Spec[]): string {
  const witness = join(dir, 'witness')
  const line = (what: string): string => `echo "${what} $CLAIMRUN_TEST $CLAIMRUN_WORKER $$ $(date +%s%N)" >> '${witness}'`
  for (const s of specs) {
    const wait = (s.nodes ?? []).map((n) => `grep -q ' ${n}/' '${witness}'`).join(' && ')
    write(dir, s.id, [
      'exec >/dev/null 2>&1',
      line('start'),
      `trap '${line('end').replace(/'/g, `'\\''`)}; exit 143' TERM`,
      wait ? `until { ${wait}; } || [ ! -d '${dir}' ]; do sleep 0.05; done` : '',
      s.hangFirst ? `if [ "$CLAIMRUN_ATTEMPT" = 1 ]; then echo $$ >> '${dir}/victim.pid'; sleep 300 & wait $!; fi` : '',
      'sleep 0.1 & wait $!',
      line('end'),
    ].join('\n') + '\n')
  }
  return witness
}

/** The most spans that ran at one moment (ends sort before starts at the same instant; no end counts as never ending). */
function peak(all: Span[]): number {
  const events = all.flatMap((s) => [{ at: s.start, d: 1 }, { at: s.end ?? Infinity, d: -1 }])
  events.sort((a, b) => a.at - b.at || a.d - b.d)
  let now = 0
  let most = 0
  for (const e of events) most = Math.max(most, (now += e.d))
  return most
}

const named = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `t/test_${prefix}_${String(i + 1).padStart(2, '0')}.sh`)
const nodeOf = (s: Span): string => s.worker.split('/')[0] ?? ''

function shared(dir: string, url: string, runId: string, node: string, extra: string[] = []): string[] {
  return ['--store', url, '--run-id', runId, '--node', node, '--workers', '2', '--order', 'given', '--no-history', '--out', join(dir, `out-${node}`), ...extra]
}

describe('lock groups in a run shared through Redis', () => {
  it('a run-wide group with max 1: two processes never run two of its tests at once, and every test runs once', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const nodes = ['alpha', 'beta']
    const staging = named('staging', 6)
    const free = named('free', 4)
    const witness = suite(dir, [...staging, ...free].map((id) => ({ id, nodes })))
    write(dir, 'claimrun.config.json', JSON.stringify({ groups: { staging: { tests: ['t/test_staging_*'], max: 1, scope: 'run' } } }))
    const runners = nodes.map((node) => startRunner(dir, shared(dir, url, 'wide', node, ['--ttl', '60'])))
    expect(await Promise.all(runners.map((r) => r.exited))).toEqual([0, 0])
    const all = spans(witness)
    expect(all.map((s) => s.id).sort()).toEqual([...staging, ...free].sort())
    expect(new Set(all.map(nodeOf))).toEqual(new Set(nodes))
    expect(peak(all.filter((s) => s.id.startsWith('t/test_staging_')))).toBe(1)
    // The store saw every machine pass a staging test over while another held the group: each one but
    // the first taken says how long it waited, in the results of the machine that ran it.
    const ran = nodes.flatMap((node) => readResults(join(dir, `out-${node}`)).tests.filter((t) => t.worker?.startsWith(`${node}/`)))
    const waits = ran.filter((t) => t.id.startsWith('t/test_staging_')).map((t) => t as { waitMs?: number; waitedFor?: string })
    expect(waits.filter((t) => t.waitedFor === 'group staging' && (t.waitMs ?? 0) > 0)).toHaveLength(staging.length - 1)
    expect(ran.filter((t) => t.id.startsWith('t/test_free_') && t.waitedFor !== undefined)).toEqual([])
    // Every hold was given back, and the group's keys expire with the run's.
    const redis = new Redis(url)
    onTestFinished(() => redis.disconnect())
    expect(await redis.hgetall('claimrun:{wide}:rgused')).toEqual({ staging: '0' })
    for (const key of await redis.keys('claimrun:{wide}:*')) {
      expect(await redis.pttl(key)).toBeGreaterThan(0)
      expect(await redis.pttl(key)).toBeLessThanOrEqual(60_000)
    }
  })

  it('the store notes when it passes a test over, returns the wait with the lease, lets the note expire with the run, and takes a note it cannot read as no wait', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const store = await RedisStore.connect(url, 'notes', 60_000, 60)
    onTestFinished(() => store.close())
    await store.joinPlan(['a', 'b', 'c'], { max: { staging: 1 }, tests: [['staging'], ['staging'], []] })
    const redis = new Redis(url)
    onTestFinished(() => redis.disconnect())
    const waiting = 'claimrun:{notes}:waiting'
    const first = await store.claim('n/w1', '...')
    expect(first).toMatchObject({ slot: 0 })
    expect(first).not.toHaveProperty('waited')
    // 'b' is passed over (staging is held), 'c' is taken; then nothing fits, and the note stays.
    expect(await store.claim('n/w2', '...')).toMatchObject({ slot: 2 })
    // A claim that takes nothing and writes the note afresh still gives it the run's expiry.
    await redis.del(waiting)
    expect(await store.claim('n/w3', '...')).toMatchObject({ slot: -1 })
    const noted = await redis.hget(waiting, '1')
    expect(noted).toMatch(/^\d+ w staging$/)
    expect(await redis.pttl(waiting)).toBeGreaterThan(0)
    // Let the store's clock pass the note before the take, so the wait is above 0 ms.
    const serverMs = async (): Promise<number> => {
      const [sec, micro] = await redis.time()
      return Number(sec) * 1000 + Math.floor(Number(micro) / 1000)
    }
    while ((await serverMs()) <= Number(noted?.split(' ')[0])) await new Promise((r) => setTimeout(r, 1))
    expect(await store.finish(0, (first as { token: number }).token, { status: 'passed' })).toBe(true)
    const second = await store.claim('n/w1', '...')
    expect(second).toMatchObject({ slot: 1, waited: { why: 'run-wide', group: 'staging' } })
    expect((second as { waited: { ms: number } }).waited.ms).toBeGreaterThan(0)
    expect(await redis.hexists(waiting, '1')).toBe(0)

    // Behind a heavy test's reservation (class A): a test that may not start beside it ('0': no bits)
    // is passed over and noted 'r'; one that may ('.') is taken; the noted one later says why it waited.
    const bf = await RedisStore.connect(url, 'reserved', 60_000, 60)
    onTestFinished(() => bf.close())
    await bf.joinPlan(['heavy', 'late', 'short'])
    expect(await bf.claim('n/w1', 'A0.')).toMatchObject({ slot: 2 })
    expect(await redis.hget('claimrun:{reserved}:waiting', '0')).toMatch(/^\d+ c$/)
    const lateNote = await redis.hget('claimrun:{reserved}:waiting', '1')
    expect(lateNote).toMatch(/^\d+ r$/)
    while ((await serverMs()) <= Number(lateNote?.split(' ')[0])) await new Promise((r) => setTimeout(r, 1))
    expect(await bf.claim('n/w1', '...')).toMatchObject({ slot: 0, waited: { why: 'capacity' } })
    expect(await bf.claim('n/w1', '...')).toMatchObject({ slot: 1, waited: { why: 'reserved' } })

    // A note that does not parse: the claim leases the test all the same, with no wait, and drops the note.
    const other = await RedisStore.connect(url, 'garbled', 60_000, 60)
    onTestFinished(() => other.close())
    await other.joinPlan(['x'], { max: { staging: 1 }, tests: [['staging']] })
    await redis.hset('claimrun:{garbled}:waiting', '0', 'not a note')
    const taken = await other.claim('n/w1', '.')
    expect(taken).toMatchObject({ slot: 0, attempt: 1 })
    expect(taken).not.toHaveProperty('waited')
    expect(await redis.hexists('claimrun:{garbled}:waiting', '0')).toBe(0)
  })

  it('a heavy test waiting for capacity in a shared run lets in beside it only the tests expected to end before it can start (backfilling)', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    // long holds one of the 3 slots until short has started: short must be let in beside heavy's reservation.
    write(dir, 't/test_1long.sh', `until [ -e '${join(dir, 'short-started')}' ] || [ ! -d '${dir}' ]; do sleep 0.02; done\n`)
    write(dir, 't/test_2heavy.sh', '# claimrun: weight=3\nsleep 0.05\n')
    write(dir, 't/test_3short.sh', `: > '${join(dir, 'short-started')}'\n`)
    write(dir, 't/test_4late.sh', 'sleep 0.05\n')
    // The estimates: long is expected to take 5 s; short ends long before; late would run past heavy's start.
    const entry = (avgMs: number) => ({ avgMs, recentMs: [avgMs], lastStatus: 'passed', lastRunAt: '2026-12-07T00:00:00Z' })
    write(dir, 'h.json', JSON.stringify({ version: 1, tests: { 't/test_1long.sh': entry(5000), 't/test_2heavy.sh': entry(50), 't/test_3short.sh': entry(10), 't/test_4late.sh': entry(120_000) } }))
    const ran = await runCli(['run', 't', '--store', url, '--run-id', 'backfill', '--node', 'solo', '--workers', '3', '--order', 'given', '--history', 'h.json', '--timeout', '30', '--no-progress', '--out', 'out'], { cwd: dir })
    expect(ran.stderr).toBe('')
    expect(ran.code).toBe(0)
    const results = readResults(join(dir, 'out')).tests as unknown as Array<{ id: string; startMs: number; endMs: number; waitedFor?: string }>
    const test = (name: string) => results.find((t) => t.id === `t/test_${name}.sh`) ?? { startMs: NaN, endMs: NaN, waitedFor: undefined }
    expect(test('3short').startMs).toBeLessThan(test('1long').endMs)
    expect(test('2heavy').startMs).toBeGreaterThanOrEqual(test('1long').endMs)
    expect(test('4late').startMs).toBeGreaterThanOrEqual(test('2heavy').startMs)
    expect(test('2heavy').waitedFor).toBe('capacity')
    const history = JSON.parse(readFileSync(join(dir, 'h.json'), 'utf8')) as { tests: Record<string, Record<string, unknown>> }
    expect(history.tests['t/test_2heavy.sh']).toHaveProperty('avgWaitMs')
  })

  it('a group is per machine by default: never over its max within a process, while each machine runs its own', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const nodes = ['alpha', 'beta']
    const db = named('db', 6)
    const free = named('free', 4)
    const witness = suite(dir, [...db, ...free].map((id) => ({ id, nodes })))
    write(dir, 'claimrun.config.json', JSON.stringify({ groups: { db: { tests: ['t/test_db_*'], max: 1 } } }))
    const runners = nodes.map((node) => startRunner(dir, shared(dir, url, 'local', node)))
    expect(await Promise.all(runners.map((r) => r.exited))).toEqual([0, 0])
    const all = spans(witness)
    expect(all.map((s) => s.id).sort()).toEqual([...db, ...free].sort())
    const dbSpans = all.filter((s) => s.id.startsWith('t/test_db_'))
    for (const node of nodes) expect(peak(dbSpans.filter((s) => nodeOf(s) === node))).toBe(1)
    // The first db test cannot end before the other machine started one, and its first claim is a db test.
    expect(peak(dbSpans)).toBe(2)
  })

  it('a runner SIGKILLed holding a run-wide group: the other takes its test over once the lease lapses, never two at once', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const staging = named('staging', 3)
    // The test outside the group comes after the group's in the given order, so the doomed runner never takes it.
    const witness = suite(dir, [...staging.map((id, i) => ({ id, hangFirst: i === 0 })), { id: 't/test_unlocked_01.sh' }])
    write(dir, 'claimrun.config.json', JSON.stringify({ groups: { staging: { tests: ['t/test_staging_*'], max: 1, scope: 'run' } } }))
    const doomed = startRunner(dir, shared(dir, url, 'takeover', 'doomed', ['--workers', '1', '--lease', '1']))
    await waitFor(() => existsSync(join(dir, 'victim.pid')), 'the first attempt to start')
    const victim = pidsIn(join(dir, 'victim.pid'))[0]!
    const victimStart = startTimeOf(victim)
    onTestFinished(() => {
      try {
        process.kill(victim, 'SIGKILL') // should the watchdog have failed
      } catch {
        // already gone
      }
    })
    const survivor = startRunner(dir, shared(dir, url, 'takeover', 'survivor', ['--lease', '1']))
    // The survivor is claiming, and can take nothing but the test outside the group while the doomed runner holds the group.
    await waitFor(() => readLines(witness).some((l) => l.startsWith('end t/test_unlocked_01.sh survivor/')), 'the survivor to run the test outside the group')
    doomed.child.kill('SIGKILL')
    expect(await survivor.exited).toBe(0)
    const all = spans(witness)
    const groupRuns = all.filter((s) => s.id.startsWith('t/test_staging_'))
    expect(groupRuns.map((s) => [s.id, nodeOf(s)])).toEqual([
      ['t/test_staging_01.sh', 'doomed'],
      ['t/test_staging_01.sh', 'survivor'],
      ['t/test_staging_02.sh', 'survivor'],
      ['t/test_staging_03.sh', 'survivor'],
    ])
    // The doomed runner's watchdog ended its test (its end is in the witness) before the takeover started.
    expect(peak(groupRuns)).toBe(1)
    const report = await runCli(['report', '--store', url, '--run-id', 'takeover', '--out', join(dir, 'report')], { cwd: dir })
    expect(report.code).toBe(0)
    await waitFor(() => !stillAlive(victim, victimStart), 'the killed runner\'s test to be ended by its watchdog')
  })

  it('a runner that joins with other run-wide groups than the run has is one line, exit 2, and runs nothing', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const witness = suite(dir, named('staging', 2).map((id) => ({ id })))
    write(dir, 'claimrun.config.json', JSON.stringify({ groups: { staging: { tests: ['t/test_staging_*'], max: 1, scope: 'run' } } }))
    expect(await startRunner(dir, shared(dir, url, 'differ', 'first')).exited).toBe(0)
    write(dir, 'claimrun.config.json', JSON.stringify({ groups: { staging: { tests: ['t/test_staging_*'], max: 1 } } }))
    const { code, stderr } = await runCli(['run', 't', ...shared(dir, url, 'differ', 'second')], { cwd: dir })
    expect(code).toBe(2)
    expect(stderr.trim()).toMatch(/^claimrun: run differ already has different run-wide groups \(t\/test_staging_01\.sh is in staging there, in none here\); use the same config on every machine, or use a new --run-id$/)
    expect(spans(witness)).toHaveLength(2)
  })

  it('a group scope other than "machine" or "run" is one line, exit 2, and runs nothing', async () => {
    const dir = tempDir()
    const witness = join(dir, 'witness')
    write(dir, 't/test_staging_01.sh', `echo ran >> '${witness}'\n`)
    write(dir, 'claimrun.config.json', JSON.stringify({ groups: { staging: { tests: ['t/**'], scope: 'global' } } }))
    const { code, stderr } = await runCli(['run', 't'], { cwd: dir })
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(/groups "staging": scope must be "machine" .* or "run" .* \(received "global"\)/)
    expect(existsSync(witness)).toBe(false)
  })
})
