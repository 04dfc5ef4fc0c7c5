import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { RedisStore } from '../../dist/src/store/redis-store.js'
import { CLI, pidsIn, readLines, readResults, runCli, tempDir, waitFor, write } from '../support/helpers.js'
import { makeCerts, startRedis } from '../support/redis.js'
import { startTimeOf, stillAlive } from '../support/witness.js'

/**
 * Tests that append "<id> <worker> <attempt>" to a witness file; `hang` hangs on its first attempt.
 * With `nodes`, a test does not end until every one of those nodes has started a test (or the
 * temp folder is gone), so no node can drain the run before the others have joined, however slowly
 * a loaded machine starts them.
 */
function suite(dir: string, count: number, hang = '', nodes: string[] = []): string {
  const witness = join(dir, 'witness')
  const wait = nodes.map((n) => `grep -q ' ${n}/' '${witness}'`).join(' && ')
  for (let i = 1; i <= count; i++) {
    const id = `t/test_${String(i).padStart(2, '0')}.sh`
    write(dir, id, [
      `echo "$CLAIMRUN_TEST $CLAIMRUN_WORKER $CLAIMRUN_ATTEMPT" >> '${witness}'`,
      nodes.length ? `until { ${wait}; } || [ ! -d '${dir}' ]; do sleep 0.05; done` : '',
      id === hang ? `if [ "$CLAIMRUN_ATTEMPT" = 1 ]; then echo $$ >> '${dir}/victim.pid'; while :; do sleep 1; done; fi` : '',
      'sleep 0.05',
    ].join('\n') + '\n')
  }
  return witness
}

function start(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CLI, 'run', 't', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  onTestFinished(() => {
    child.kill('SIGKILL')
  })
  return { child, exited, output: () => out }
}

describe('a run shared through Redis', () => {
  it('three processes drain one run: every test exactly once, every node took work, the report holds all', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const witness = suite(dir, 30, '', ['alpha', 'beta', 'gamma'])
    const nodes = ['alpha', 'beta', 'gamma'].map((node) => start(dir, ['--store', url, '--run-id', 'r1', '--node', node, '--workers', '2', '--out', join(dir, `out-${node}`)]))
    expect(await Promise.all(nodes.map((n) => n.exited))).toEqual([0, 0, 0])
    const lines = readLines(witness).map((l) => l.split(' '))
    const ids = lines.map((l) => l[0])
    expect(ids).toHaveLength(30)
    expect(new Set(ids).size).toBe(30)
    expect(new Set(lines.map((l) => l[1]?.split('/')[0]))).toEqual(new Set(['alpha', 'beta', 'gamma']))
    expect(lines.every((l) => /^(alpha|beta|gamma)\/worker0[12]$/.test(l[1] ?? ''))).toBe(true)
    // Each node's own results hold just the tests it ran.
    const own = ['alpha', 'beta', 'gamma'].map((n) => readResults(join(dir, `out-${n}`)).tests.length)
    expect(own.reduce((a, b) => a + b, 0)).toBe(30)
    const r = await runCli(['report', '--store', url, '--run-id', 'r1', '--out', join(dir, 'report')], { cwd: dir })
    expect(r.code).toBe(0)
    const combined = readResults(join(dir, 'report'))
    expect(combined.tests.map((t) => t.id).sort()).toEqual([...new Set(ids)].sort())
    expect(combined.counts.passed).toBe(30)
    expect(r.stdout).toMatch(/^30 passed, 0 failed/m)
    for (const f of ['summary.txt', 'junit.xml', 'report.html']) expect(existsSync(join(dir, 'report', f))).toBe(true)
  })

  it('a process SIGKILLed mid-test: its test is taken over once its lease lapses, and appears once in the report', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const witness = suite(dir, 6, 't/test_01.sh')
    const a = start(dir, ['--store', url, '--run-id', 'r2', '--node', 'doomed', '--workers', '1', '--lease', '1', '--order', 'given', '--out', join(dir, 'out-a')])
    await waitFor(() => existsSync(join(dir, 'victim.pid')), 'the first attempt to start')
    const victim = pidsIn(join(dir, 'victim.pid'))[0]!
    const victimStart = startTimeOf(victim)
    onTestFinished(() => {
      try {
        process.kill(-victim, 'SIGKILL') // should the watchdog have failed
      } catch {
        // already gone
      }
    })
    a.child.kill('SIGKILL')
    const killedAt = Date.now()
    const b = start(dir, ['--store', url, '--run-id', 'r2', '--node', 'survivor', '--workers', '2', '--lease', '1', '--out', join(dir, 'out-b')])
    expect(await b.exited).toBe(0)
    const lines = readLines(witness).map((l) => l.split(' '))
    const runs = lines.filter((l) => l[0] === 't/test_01.sh')
    expect(runs.map((l) => [l[1]?.split('/')[0], l[2]])).toEqual([['doomed', '1'], ['survivor', '2']])
    expect(lines.filter((l) => l[0] !== 't/test_01.sh').every((l) => l[1]?.startsWith('survivor/'))).toBe(true)
    const r = await runCli(['report', '--store', url, '--run-id', 'r2', '--out', join(dir, 'report')], { cwd: dir })
    expect(r.code).toBe(0)
    const t1 = readResults(join(dir, 'report')).tests.filter((t) => t.id === 't/test_01.sh')
    expect(t1).toHaveLength(1)
    expect(t1[0]).toMatchObject({ status: 'passed', attempts: 2 })
    expect(t1[0]!.worker).toMatch(/^survivor\/worker0\d$/)
    const takeover = readResults(join(dir, 'out-b')).tests.find((t) => t.id === 't/test_01.sh') as unknown as { startMs: number }
    console.log(`lost machine: test taken over ${Date.now() - killedAt} ms after the kill (lease 1 s); restarted at ${takeover.startMs} ms into the survivor's run`)
    // The killed runner's watchdog ended its test: no orphan keeps running beside the takeover.
    await waitFor(() => !stillAlive(victim, victimStart), 'the killed runner\'s test to be ended by its watchdog')
  })

  it('a process whose discovered tests differ from the run is refused, runs nothing', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const witness = suite(dir, 4)
    expect(await start(dir, ['--store', url, '--run-id', 'r3', '--out', join(dir, 'o1')]).exited).toBe(0)
    write(dir, 't/test_99.sh', `echo extra >> '${witness}'\n`)
    const r = await runCli(['run', 't', '--store', url, '--run-id', 'r3', '--out', join(dir, 'o2')], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^claimrun: run r3 already has a different test list: 1 not in the run \(e\.g\. t\/test_99\.sh\); run the same paths on every machine, or use a new --run-id$/)
    expect(readLines(witness)).toHaveLength(4)
  })

  it('the fencing token: a lapsed holder cannot record a result once another took over', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const store = await RedisStore.connect(url, 'r4', 200)
    onTestFinished(() => store.close())
    await store.joinPlan(['only'])
    const first = await store.claim('a/worker01')
    expect(first).toMatchObject({ slot: 0, attempt: 1 })
    await new Promise((r) => setTimeout(r, 300))
    const second = await store.claim('b/worker01')
    expect(second).toMatchObject({ slot: 0, attempt: 2 })
    expect(await store.renew([first as { slot: number; token: number }])).toEqual([false])
    expect(await store.finish(0, (first as { token: number }).token, { status: 'failed' })).toBe(false)
    expect(await store.finish(0, (second as { token: number }).token, { status: 'passed' })).toBe(true)
    // The same claim's FINISH again (a resend after a reconnect) is the same outcome: accepted, nothing changed.
    expect(await store.finish(0, (second as { token: number }).token, { status: 'failed' })).toBe(true)
    expect(await store.finish(0, (first as { token: number }).token, { status: 'failed' })).toBe(false)
    expect([...(await store.results()).values()]).toEqual([{ status: 'passed' }])
  })

  it('an unreachable server, a wrong password, a bad URL: one line, exit 2, promptly', async () => {
    const dir = tempDir()
    suite(dir, 2)
    const { port } = await startRedis(dir, ['--requirepass', 's3cret'])
    const cases: Array<[string, RegExp]> = [
      ['redis://127.0.0.1:1/0', /^claimrun: cannot reach the store at redis:\/\/127\.0\.0\.1:1\/0 \(ECONNREFUSED\); check --store, or start the server$/],
      [`redis://:wrong@127.0.0.1:${port}/0`, /^claimrun: cannot reach the store at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 \(.*WRONGPASS.*\); check --store/],
      ['http://127.0.0.1:1', /^claimrun: --store must start with redis:\/\/ or rediss:\/\//],
    ]
    for (const [url, message] of cases) {
      const started = Date.now()
      const r = await runCli(['run', 't', '--store', url, '--run-id', 'r5', '--out', join(dir, 'out')], { cwd: dir })
      expect(r.code).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr.trim()).toMatch(message)
      expect(Date.now() - started).toBeLessThan(20_000)
    }
    const missingId = await runCli(['run', 't', '--store', 'redis://127.0.0.1:1'], { cwd: dir, env: { GITHUB_RUN_ID: '', CI_PIPELINE_ID: '' } })
    expect(missingId.stderr).toMatch(/--store needs --run-id/)
    const ok = await runCli(['run', 't', '--store', `redis://:s3cret@127.0.0.1:${port}/0`, '--run-id', 'r5', '--out', join(dir, 'out')], { cwd: dir })
    expect(ok.code).toBe(0)
  })

  it('rediss:// (TLS) with a CA the process trusts', async () => {
    const dir = tempDir()
    const certs = makeCerts(dir)
    const { url } = await startRedis(dir, ['--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no'], { tls: true })
    suite(dir, 3)
    const untrusted = await runCli(['run', 't', '--store', url, '--run-id', 'r6', '--out', join(dir, 'o')], { cwd: dir, env: { NODE_EXTRA_CA_CERTS: '' } })
    expect(untrusted.code).toBe(2)
    expect(untrusted.stderr).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY/)
    const trusted = await runCli(['run', 't', '--store', url, '--run-id', 'r6', '--out', join(dir, 'o')], { cwd: dir, env: { NODE_EXTRA_CA_CERTS: certs.ca } })
    expect(trusted.code).toBe(0)
    expect(readResults(join(dir, 'o')).counts.passed).toBe(3)
  })
})
