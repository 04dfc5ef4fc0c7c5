import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ClaimrunError, run } from 'claimrun'
import { CLI, readResults, runCli, tempDir, write } from '../support/helpers.js'
import { startRedis } from '../support/redis.js'

/** A suite of one test that leaves a witness file when it runs, so "nothing ran" can be checked. */
function suite(): { dir: string; ran: string } {
  const dir = tempDir()
  write(dir, 't/test_a.sh', 'touch "$(dirname "$0")/../ran"\n')
  return { dir, ran: join(dir, 'ran') }
}

/** A usage error: exit 2, one line on stderr starting with `claimrun: `, nothing on stdout, no test run. */
async function refused(dir: string, ran: string, args: string[], message: RegExp): Promise<void> {
  const r = await runCli(['run', 't', '--out', join(dir, 'out'), '--no-history', ...args], { cwd: dir })
  expect(r.code, r.stderr).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr.trim().split('\n')).toHaveLength(1)
  expect(r.stderr).toMatch(/^claimrun: /)
  expect(r.stderr).toMatch(message)
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /)
  expect(existsSync(ran)).toBe(false)
}

describe('durations take units and are checked for range, saying the limit', () => {
  it('refuses a timeout past what a timer holds, and one below 1 ms, instead of misbehaving', async () => {
    const { dir, ran } = suite()
    // 3,000,000 s overflowed setTimeout: every test "timed out" after 1 ms.
    await refused(dir, ran, ['--timeout', '3000000'], /--timeout must be at most 2147483s \(about 24\.8 days\), the longest delay a Node timer can hold \(received "3000000"\)/)
    // 0.0004 s rounded to 0, which silently meant "no timeout".
    await refused(dir, ran, ['--timeout', '0.0004'], /--timeout must be at least 1ms/)
    await refused(dir, ran, ['--timeout', '0'], /--timeout must be above 0/)
    await refused(dir, ran, ['--timeout', '30x'], /--timeout must be a duration such as 30 \(seconds\), 30s, 500ms or 2m \(received "30x"\)/)
    await refused(dir, ran, ['--kill-grace', '40d'], /--kill-grace must be a duration/)
    await refused(dir, ran, ['--kill-grace', '600h'], /--kill-grace must be at most 2147483s/)
    await refused(dir, ran, ['--slow', '0'], /--slow must be above 0/)
    await refused(dir, ran, ['--slow', '0.1ms'], /--slow must be at least 1ms/)
    await refused(dir, ran, ['--store', 'redis://127.0.0.1:1', '--run-id', 'r', '--lease', '500ms'], /--lease must be at least 1s, it is renewed every third of it/)
    await refused(dir, ran, ['--store', 'redis://127.0.0.1:1', '--run-id', 'r', '--ttl', '0.2'], /--ttl must be at least 1s, Redis expires keys in whole seconds/)
    await refused(dir, ran, ['--store', 'redis://127.0.0.1:1', '--run-id', 'r', '--ttl', '9000h'], /--ttl must be at most 8760h \(about 365 days\)/)
  })

  it('takes 500ms, 2m and plain seconds: a 300ms timeout ends a hanging test as timedout', async () => {
    const dir = tempDir()
    write(dir, 't/test_hang.sh', 'exec sleep 30\n')
    write(dir, 't/test_ok.sh', 'exit 0\n')
    const r = await runCli(['run', 't', '--out', join(dir, 'out'), '--no-history', '--timeout', '300ms', '--kill-grace', '100ms', '--slow', '2m'], { cwd: dir })
    expect(r.code, r.stderr).toBe(1)
    const byId = Object.fromEntries(readResults(join(dir, 'out')).tests.map((t) => [t.id, t]))
    expect(byId['t/test_hang.sh']?.status).toBe('timedout')
    expect(byId['t/test_ok.sh']?.status).toBe('passed')
    // The same through the API: a number is seconds, a string may carry a unit.
    const api = await run({ paths: ['t'], cwd: dir, out: join(dir, 'api'), history: false, timeout: '0.3s', killGrace: 0 })
    expect(api.tests.find((t) => t.id === 't/test_hang.sh')?.status).toBe('timedout')
  })

  it('-w auto is the CPUs available; more lanes than 4 per CPU get a warning with the reason', async () => {
    const dir = tempDir()
    for (let i = 0; i < 17; i++) write(dir, `t/test_${i}.sh`, 'exit 0\n')
    // taskset pins the run to one CPU, so availableParallelism() is 1 whatever the machine.
    const cli = (args: string[]) => promisify(execFile)('taskset', ['-c', '0', process.execPath, CLI, 'run', 't', '--no-history', ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } })
    const auto = await cli(['-w', 'auto', '--out', join(dir, 'auto')])
    expect(readResults(join(dir, 'auto')).workers).toEqual(['worker01'])
    expect(auto.stderr).toBe('')
    const crowded = await cli(['-w', '17', '--out', join(dir, 'crowded')])
    expect(readResults(join(dir, 'crowded')).workers).toHaveLength(17)
    expect(crowded.stderr).toMatch(/^claimrun: warning: 17 worker threads on 1 CPUs: each lane costs a thread .*use --workers auto or fewer$/m)
  })
})

describe('every bad input is one clear line (or a ClaimrunError with a code), never an internal error', () => {
  it('claimrun show on a results.json of the wrong shape names the field', async () => {
    const dir = tempDir()
    const out = join(dir, 'out')
    write(dir, 'out/results.json', JSON.stringify({ version: 1, startedAt: 'x', durationMs: 1, workers: ['worker01'], tests: [{ id: 'a' }] }))
    const r = await runCli(['show', out], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/results\.json is not a claimrun results file \(tests\[0\]\.status is missing, not one of passed, .*\); name the out folder of a claimrun run/)
    writeFileSync(join(out, 'results.json'), JSON.stringify({ version: 1, tests: 'nope' }))
    const r2 = await runCli(['show', out, '--html'], { cwd: dir })
    expect(r2.code).toBe(2)
    expect(r2.stderr).toMatch(/not a claimrun results file \(startedAt is missing, not a date string\)/)
    expect(existsSync(join(out, 'report.html'))).toBe(false)
  })

  it('--shard with an absurd n, and --workers past the limit, say the limit', async () => {
    const { dir, ran } = suite()
    await refused(dir, ran, ['--shard', '1/99999999999999999999'], /--shard: at most 100000 shards \(received "1\/99999999999999999999"\)/)
    await refused(dir, ran, ['--workers', '2000'], /--workers must be a whole number from 1 to 1024, or auto \(\d+ here: the CPUs available\) \(received "2000"\)/)
  })

  it('the API checks cwd, signal and history before it touches the out folder', async () => {
    const { dir, ran } = suite()
    const out = join(dir, 'out')
    write(dir, 'out/results.json', 'the previous run\n')
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ cwd: 5 }, /^cwd must be a folder path \(received 5\)$/],
      [{ cwd: join(dir, 't/test_a.sh') }, /^cwd must be an existing folder/],
      [{ signal: 'nope' }, /^signal must be an AbortSignal .*\(received "nope"\)$/],
      [{ history: 5 }, /^history must be a file path, or false for no history \(received 5\)$/],
      [{ timeout: '5 minutes' }, /^--timeout must be a duration/],
      [{ workers: 'many' }, /^--workers must be a whole number from 1 to 1024, or auto/],
    ]
    for (const [bad, message] of cases) {
      const err = await run({ paths: [join(dir, 't')], cwd: dir, out, ...bad } as never).then(() => null, (e: unknown) => e)
      expect(err, JSON.stringify(bad)).toBeInstanceOf(ClaimrunError)
      expect((err as ClaimrunError).code).toBe('CLAIMRUN_BAD_OPTION')
      expect((err as ClaimrunError).message).toMatch(message)
    }
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('the previous run\n')
    expect(existsSync(ran)).toBe(false)
  })

  it('a history file too big to be one is refused before it is read, and left as it was', async () => {
    const { dir, ran } = suite()
    const history = join(dir, 'big.json')
    writeFileSync(history, '')
    truncateSync(history, 65 * 1024 * 1024) // sparse: 65 MiB without writing them
    const r = await runCli(['run', 't', '--out', join(dir, 'out'), '--history', history], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^claimrun: --history ".*big\.json" is 65 MiB, above the 64 MiB a history file may have .*--no-history/)
    expect(statSync(history).size).toBe(65 * 1024 * 1024)
    expect(existsSync(ran)).toBe(false)
  })

  it('a current folder deleted under the shell: one line and exit 2 for every command, not a stack trace', () => {
    const { dir } = suite()
    const gone = join(dir, 'gone')
    mkdirSync(gone)
    // The shell enters the folder, removes it, then runs claimrun there (argv passed through, no quoting).
    for (const args of [['run'], ['run', '-w', '2', 't'], ['list'], ['--version']]) {
      const r = spawnSync('/bin/sh', ['-c', 'cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', gone, process.execPath, CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
      expect({ args, code: r.status, signal: r.signal }).toEqual({ args, code: 2, signal: null })
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe('claimrun: the current folder no longer exists (ENOENT): cd into an existing folder and run the command again\n')
      mkdirSync(gone)
    }
  })

  it('--store with a database the server does not have is refused, not silently db 0', async () => {
    const { dir, ran } = suite()
    const redis = await startRedis(dir)
    const base = `redis://127.0.0.1:${redis.port}`
    await refused(dir, ran, ['--store', `${base}/99`, '--run-id', 'r1'], /--store redis:\/\/127\.0\.0\.1:\d+\/99: there is no database 99 \(this server has databases 0-15\); use a database number it has/)
    await refused(dir, ran, ['--store', `${base}/x1`, '--run-id', 'r1'], /--store: "\/x1" after the address must be a database number, such as \/0/)
    // A database it has is used, and nothing lands in db 0.
    const ok = await runCli(['run', 't', '--out', join(dir, 'out'), '--no-history', '--store', `${base}/3`, '--run-id', 'r1'], { cwd: dir })
    expect(ok.code, ok.stderr).toBe(0)
    const keys = (db: number) => promisify(execFile)('redis-cli', ['-p', String(redis.port), '-n', String(db), '--raw', 'keys', '*']).then((o) => o.stdout.trim())
    expect(await keys(3)).toMatch(/claimrun:\{r1\}:plan/)
    expect(await keys(0)).toBe('')
  })
})
