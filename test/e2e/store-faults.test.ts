import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { pidsIn, readResults, runCli, tempDir, waitFor } from '../support/helpers.js'
import { killRedis, startRedis } from '../support/redis.js'
import { startProxy } from '../support/proxy.js'
import { killRecordedOnFinish, overlaps, spans, startRunner, startTimeOf, stillAlive, timedSuite } from '../support/witness.js'

/** n tests have started and recorded their pids (shell and background sleep). */
const started = (witness: string, n: number) => (): boolean =>
  existsSync(witness) && spans(witness).length >= n && existsSync(join(witness, '..', 'pids')) && pidsIn(join(witness, '..', 'pids')).length >= 2 * n

/** The processes recorded so far, each named by pid and start time (pids are reused). */
const identify = (pids: string): Array<readonly [number, string | null]> => pidsIn(pids).map((pid) => [pid, startTimeOf(pid)] as const)

describe('a shared run whose store fails it: never a green for tests that did not run', () => {
  it('--ttl shorter than a test: the run still runs every test, and every key of the run expires together', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const { witness, pids } = timedSuite(dir, 4, { seconds: 2 })
    killRecordedOnFinish(pids)
    const r = await runCli(['run', 't', '--store', url, '--run-id', 'ttl', '--ttl', '1', '--workers', '2', '--no-history', '--out', join(dir, 'out')], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^4 passed, 0 failed - 4 tests/m)
    expect(new Set(spans(witness).map((s) => s.id)).size).toBe(4)
    // Straight after the run the whole run is there (every outcome), every key with the same
    // short expiry, refreshed by the last write: none outlives the others, none is gone early.
    const redis = new Redis(url)
    onTestFinished(() => redis.disconnect())
    const keys = (await redis.keys('claimrun:{ttl}:*')).sort()
    expect(keys).toEqual(['attempts', 'epoch', 'finisher', 'plan', 'results', 'tokens'].map((k) => `claimrun:{ttl}:${k}`))
    expect(await redis.hlen('claimrun:{ttl}:results')).toBe(4)
    for (const key of keys) expect(await redis.pttl(key)).toBeGreaterThan(0)
    for (const key of keys) expect(await redis.pttl(key)).toBeLessThanOrEqual(1000)
  })

  it('the store restarted empty mid-run: every runner stops with exit 2 and one line, results.json lists every test', async () => {
    const dir = tempDir()
    const redis = await startRedis(dir)
    const { witness, pids, ids } = timedSuite(dir, 8, { seconds: 30 })
    killRecordedOnFinish(pids)
    const common = ['--store', redis.url, '--run-id', 'gone', '--workers', '1', '--kill-grace', '1', '--no-history']
    const a = startRunner(dir, [...common, '--node', 'a', '--out', join(dir, 'out-a')])
    const b = startRunner(dir, [...common, '--node', 'b', '--out', join(dir, 'out-b')])
    await waitFor(started(witness, 2), 'both runners to start a test')
    const running = identify(pids)
    await killRedis(redis.server)
    await startRedis(dir, [], { port: redis.port })
    expect(await a.exited).toBe(2)
    expect(await b.exited).toBe(2)
    for (const [node, runner] of [['a', a], ['b', b]] as const) {
      const stderr = runner.output().split('\n').filter((l) => l.startsWith('claimrun: the store'))
      expect(stderr).toEqual([`claimrun: the store lost run gone (its keys are gone: a restart without persistence, expiry or eviction); stopped, 8 of 8 tests marked error in ${join(dir, `out-${node}`, 'results.json')}`])
      const result = readResults(join(dir, `out-${node}`)) as ReturnType<typeof readResults> & { storeError: string; exitCode: number }
      expect(result.tests.map((t) => t.id).sort()).toEqual(ids)
      expect(result.counts.error).toBe(8)
      expect(result.exitCode).toBe(2)
      expect(result.storeError).toMatch(/^the store lost run gone/)
      expect(result.tests.every((t) => String(t.error).startsWith('the store lost run gone'))).toBe(true)
    }
    // The two tests that were running were ended, not left behind.
    for (const [pid, start] of running) expect(stillAlive(pid, start)).toBe(false)
  })

  it('the store dies and stays down: exit 2 after the reconnect window (half the lease), running tests ended, results.json complete', async () => {
    const dir = tempDir()
    const redis = await startRedis(dir)
    const { witness, pids, ids } = timedSuite(dir, 5, { seconds: 30 })
    killRecordedOnFinish(pids)
    const out = join(dir, 'out')
    const runner = startRunner(dir, ['--store', redis.url, '--run-id', 'down', '--workers', '2', '--lease', '4', '--no-history', '--out', out])
    await waitFor(started(witness, 2), 'two tests to start')
    const processes = identify(pids)
    const killedAt = Date.now()
    await killRedis(redis.server)
    expect(await runner.exited).toBe(2)
    console.log(`store down: the runner exited ${Date.now() - killedAt} ms after the kill (window: 2 s of --lease 4)`)
    expect(runner.output()).toMatch(new RegExp(`^claimrun: the store at redis://127\\.0\\.0\\.1:${redis.port}/0 did not answer for [\\d.]+ s \\(more than half of --lease 4 s\\); stopped, 5 of 5 tests marked error in ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/results\\.json$`, 'm'))
    const result = readResults(out)
    expect(result.tests.map((t) => t.id).sort()).toEqual(ids)
    expect(result.counts.error).toBe(5)
    const running = result.tests.filter((t) => t.worker !== null)
    expect(running).toHaveLength(2)
    for (const t of running) expect(t.error).toMatch(/did not answer .*; ended so that it cannot run twice$/)
    for (const [pid, start] of processes) expect(stillAlive(pid, start)).toBe(false)
    // Ended by the fence, with SIGTERM (their trap recorded the end).
    expect(spans(witness).every((s) => s.end !== null)).toBe(true)
  })

  it('one runner cut off from the store (a partition): it ends its own test before its lease lapses; the other takes over, never at once', async () => {
    const dir = tempDir()
    const redis = await startRedis(dir)
    const proxy = await startProxy(redis.port)
    const { witness, pids } = timedSuite(dir, 3, { hang: ['t/test_01.sh'] })
    killRecordedOnFinish(pids)
    const common = ['--run-id', 'cut', '--lease', '3', '--order', 'given', '--no-history']
    const cutOff = startRunner(dir, ['--store', proxy.url, ...common, '--node', 'cut', '--workers', '1', '--out', join(dir, 'out-a')])
    await waitFor(started(witness, 1), 'the cut-off node to start its test')
    proxy.cut()
    const other = startRunner(dir, ['--store', redis.url, ...common, '--node', 'other', '--workers', '2', '--out', join(dir, 'out-b')])
    expect(await cutOff.exited).toBe(2)
    expect(await other.exited).toBe(0)
    const runs = spans(witness).filter((s) => s.id === 't/test_01.sh')
    expect(runs.map((s) => s.worker.split('/')[0])).toEqual(['cut', 'other'])
    expect(overlaps(spans(witness))).toEqual([])
    const own = readResults(join(dir, 'out-a')).tests.find((t) => t.id === 't/test_01.sh')
    expect(own).toMatchObject({ status: 'error' })
    expect(readResults(join(dir, 'out-b')).tests.find((t) => t.id === 't/test_01.sh')).toMatchObject({ status: 'passed', attempts: 2 })
  })

  it('a FINISH whose answer is lost to a dropped connection is resent, and the store takes the resend as the same outcome: no false "not accepted" note', async () => {
    const dir = tempDir()
    const redis = await startRedis(dir)
    const proxy = await startProxy(redis.port)
    timedSuite(dir, 2)
    const out = join(dir, 'out')
    // The first outcome the runner records reaches the server; its answer never comes back, so
    // ioredis reconnects and sends the same FINISH again.
    const lost = proxy.loseAnswerTo('"status":"passed"')
    const r = await runCli(['run', 't', '--store', proxy.url, '--run-id', 'resend', '--workers', '1', '--order', 'given', '--no-history', '--out', out], { cwd: dir })
    await lost
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^2 passed, 0 failed - 2 tests/m)
    const results = readResults(out)
    expect(results.tests.map((t) => [t.id, t.status, t.attempts, t.notes ?? []])).toEqual([['t/test_01.sh', 'passed', 1, []], ['t/test_02.sh', 'passed', 1, []]])
    const store = new Redis(redis.url)
    onTestFinished(() => store.disconnect())
    expect(await store.hlen('claimrun:{resend}:results')).toBe(2)
  })
})
