import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import formats, { type FormatsPlugin } from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { run } from 'claimrun'
import { ROOT, runCli, tempDir, write } from '../support/helpers.js'
import { startRedis } from '../support/redis.js'

// ajv (a maintained JSON Schema validator) checks the schema the package ships, in strict mode: a
// keyword it does not know, or a type it cannot reconcile, is an error in the schema itself.
const ajv = new Ajv({ allErrors: true, strict: true })
// ajv-formats is CommonJS: its plugin is the module's default export, under `default` when imported from ESM.
const addFormats = (formats as unknown as { default: FormatsPlugin }).default
addFormats(ajv)
const schemaFile = join(ROOT, 'schema', 'results.schema.json')
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object)
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

/** Parses a results.json and checks it against the schema, with the errors in the failure message. */
function valid(file: string): Record<string, unknown> & { tests: Array<Record<string, unknown>>; startedAt: string; finishedAt: string; durationMs: number } {
  const data = JSON.parse(readFileSync(file, 'utf8'))
  expect(validate(data), `${file}: ${ajv.errorsText(validate.errors)}`).toBe(true)
  return data
}

/** The versions and the end time every results.json carries, read against what ran. */
function stamped(data: ReturnType<typeof valid>): void {
  expect(data.claimrunVersion).toBe(version)
  expect(data.nodeVersion).toBe(process.version)
  const started = Date.parse(data.startedAt)
  const finished = Date.parse(data.finishedAt)
  expect(finished).toBeGreaterThanOrEqual(started)
  expect(finished).toBeLessThan(Date.now() + 1)
}

describe('results.json and its JSON Schema', () => {
  it('a run with every outcome a test can have (passed, failed, flaky, timed out, TAP sub-tests, error) fits the schema, --json copy too', async () => {
    const dir = tempDir()
    write(dir, 't/test_1_ok.sh', 'echo fine\n')
    write(dir, 't/test_2_fail.sh', 'echo broken\nexit 3\n')
    write(dir, 't/test_3_flaky.sh', `if [ ! -e '${dir}/once' ]; then : > '${dir}/once'; exit 1; fi\n`)
    write(dir, 't/test_4_slow.sh', 'sleep 30\n')
    write(dir, 't/test_5_tap.sh', "printf 'TAP version 13\\n1..3\\nok 1 - a\\nnot ok 2 - b\\nok 3 - c # SKIP later\\n'\n")
    write(dir, 't/test_6_error.check', '#!/no/such/interpreter\n', 0o755)
    const r = await runCli(['run', 't', '--pattern', 'test_*', '--out', 'out', '--json', 'copy.json', '--retries', '1', '--timeout', '1', '--kill-grace', '0.2', '--no-history', '--order', 'random', '--seed', '7'], { cwd: dir })
    expect(r.code, r.stderr).toBe(1)
    const data = valid(join(dir, 'out', 'results.json'))
    stamped(data)
    expect(data.tests.map((t) => t.status).sort()).toEqual(['error', 'failed', 'failed', 'flaky', 'passed', 'timedout'])
    expect(valid(join(dir, 'copy.json'))).toEqual(data)
  })

  it('a run with lock groups, weights and a serial test fits it, needs and all', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.sh', '# claimrun: group=db\nexit 0\n')
    write(dir, 't/test_b.sh', '# claimrun: group=db weight=2\nexit 0\n')
    write(dir, 't/test_c.sh', '# claimrun: serial\nexit 0\n')
    const r = await runCli(['run', 't', '--out', 'out', '--no-history'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    const data = valid(join(dir, 'out', 'results.json'))
    const byId = Object.fromEntries(data.tests.map((t) => [t.id, t as typeof t & { groups?: string[]; weight?: number; serial?: boolean }]))
    expect(byId['t/test_b.sh']).toMatchObject({ groups: ['db'], weight: 2 })
    expect(byId['t/test_c.sh']?.serial).toBe(true)
  })

  it('runs that stop early fit it too: --bail (notrun), an interrupt, a failed --setup, a --teardown and a shard', async () => {
    const dir = tempDir()
    for (const n of [1, 2, 3]) write(dir, `t/test_${n}.sh`, 'exit 1\n')
    const bail = await runCli(['run', 't', '--out', 'bail', '--bail', '1', '-w', '1', '--no-history', '--teardown', 'true'], { cwd: dir })
    expect(bail.code).toBe(1)
    const bailed = valid(join(dir, 'bail', 'results.json'))
    expect(bailed).toMatchObject({ bailed: true, teardown: { status: 'passed' } })
    expect(bailed.tests.map((t) => t.status).sort()).toEqual(['failed', 'notrun', 'notrun'])

    const setup = await runCli(['run', 't', '--out', 'setup', '--no-history', '--setup', 'no-such-command-claimrun'], { cwd: dir })
    expect(setup.code).toBe(2)
    expect(valid(join(dir, 'setup', 'results.json'))).toMatchObject({ exitCode: 2, workers: [], setup: { status: 'error' } })

    const stop = new AbortController()
    stop.abort()
    await run({ paths: ['t'], cwd: dir, out: join(dir, 'stopped'), history: false, signal: stop.signal, shard: '1/2' })
    const stopped = valid(join(dir, 'stopped', 'results.json'))
    expect(stopped).toMatchObject({ interrupted: 'abort', shard: '1/2' })
    stamped(stopped)
  })

  it('a shared run\'s results.json and the report combined from the store fit it', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    for (const n of [1, 2, 3, 4]) write(dir, `t/test_${n}.sh`, n === 4 ? 'exit 1\n' : 'exit 0\n')
    const node = await runCli(['run', 't', '--store', url, '--run-id', 'schema', '--out', 'node'], { cwd: dir })
    expect(node.code, node.stderr).toBe(1)
    stamped(valid(join(dir, 'node', 'results.json')))
    const report = await runCli(['report', '--store', url, '--run-id', 'schema', '--out', 'report'], { cwd: dir })
    expect(report.code, report.stderr).toBe(1)
    const combined = valid(join(dir, 'report', 'results.json'))
    expect(combined.tests).toHaveLength(4)
    expect(Date.parse(combined.finishedAt)).toBeGreaterThanOrEqual(Date.parse(combined.startedAt))
  })

  it('the schema is strict enough to catch a wrong file, and it ships in the package (a "files" entry and an export)', () => {
    expect(validate({ version: 1, tests: [] })).toBe(false)
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })
    expect(pack.status, pack.stderr).toBe(0)
    const files = (JSON.parse(pack.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path)
    expect(files).toContain('schema/results.schema.json')
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string> }
    expect(pkg.exports['./results.schema.json']).toBe('./schema/results.schema.json')
  })
})
