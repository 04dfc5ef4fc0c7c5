import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run, type RunEvent } from 'claimrun'
import { tempDir, write } from '../support/helpers.js'

describe('test outcomes', () => {
  it('exit 0 passes; non-zero exit and signals fail with code and signal recorded; a missing interpreter is an error and the rest go on', async () => {
    const dir = tempDir()
    write(dir, 't/test_pass.sh', 'echo fine\n')
    write(dir, 't/test_exit3.sh', 'echo "about to fail" >&2\nexit 3\n')
    write(dir, 't/test_killed.sh', 'kill -KILL $$\n')
    write(dir, 't/test_term.sh', 'kill -TERM $$\n')
    write(dir, 't/test_noexec.check', '#!/no/such/interpreter\n', 0o755)
    const events: RunEvent[] = []
    const result = await run({ paths: ['t'], pattern: 'test_*', cwd: dir, out: join(dir, 'out'), onEvent: (e) => events.push(e) })
    const byId = Object.fromEntries(result.tests.map((t) => [t.id.slice(2), t]))
    expect(byId['test_pass.sh']).toMatchObject({ status: 'passed', exitCode: 0, signal: null, attempts: 1 })
    expect(byId['test_exit3.sh']).toMatchObject({ status: 'failed', exitCode: 3, signal: null })
    expect(byId['test_exit3.sh']?.tail).toContain('about to fail')
    expect(byId['test_killed.sh']).toMatchObject({ status: 'failed', exitCode: null, signal: 'SIGKILL' })
    expect(byId['test_term.sh']).toMatchObject({ status: 'failed', signal: 'SIGTERM' })
    expect(byId['test_noexec.check']).toMatchObject({ status: 'error', exitCode: null })
    expect(byId['test_noexec.check']?.error).toMatch(/not found \(ENOENT\)/)
    expect(result.exitCode).toBe(1)
    expect(events[0]?.type).toBe('run:start')
    expect(events.at(-1)?.type).toBe('run:end')
    expect(events.filter((e) => e.type === 'test:end')).toHaveLength(5)
  })

  it('--cmd with a missing binary: every test ends as error ("not found"), the run still finishes', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.sh', 'exit 0\n')
    write(dir, 't/test_b.sh', 'exit 0\n')
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), cmd: 'no-such-binary-xyz {file}' })
    expect(result.tests.map((t) => t.status)).toEqual(['error', 'error'])
    expect(result.tests[0]?.error).toBe('no-such-binary-xyz: not found (ENOENT)')
    expect(result.exitCode).toBe(1)
  })

  it('results.json: every test once, times relative to the start, counts, written whole', async () => {
    const dir = tempDir()
    for (let i = 1; i <= 6; i++) write(dir, `t/test_${i}.sh`, i === 4 ? 'exit 1\n' : 'sleep 0.05\n')
    const out = join(dir, 'out')
    const result = await run({ paths: ['t'], cwd: dir, out, workers: 2 })
    const file = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))
    expect(file.version).toBe(1)
    expect(new Date(file.startedAt).toISOString()).toBe(file.startedAt)
    expect(file.workers).toEqual(['worker01', 'worker02'])
    expect(file.tests.map((t: { id: string }) => t.id)).toEqual(Array.from({ length: 6 }, (_, i) => `t/test_${i + 1}.sh`))
    expect(file.counts).toMatchObject({ passed: 5, failed: 1, error: 0, notrun: 0 })
    for (const t of file.tests) {
      expect(Object.keys(t)).toEqual(expect.arrayContaining(['id', 'file', 'worker', 'status', 'exitCode', 'signal', 'startMs', 'endMs', 'durationMs', 'attempts']))
      expect(t.startMs).toBeGreaterThanOrEqual(0)
      expect(t.endMs).toBeGreaterThanOrEqual(t.startMs)
      expect(t.endMs).toBeLessThanOrEqual(file.durationMs)
      expect(t.durationMs).toBeCloseTo(t.endMs - t.startMs, 0)
    }
    expect(file.tests).toEqual(JSON.parse(JSON.stringify(result.tests)))
  })

  it('worker logs hold each test between a header and a footer; the result points at its bytes', async () => {
    const dir = tempDir()
    // Two pipes are read in arrival order; each line waits until the last one is in the log, so the order is certain.
    const out = join(dir, 'out')
    const logged = (text: string): string => `until grep -q '${text}' '${join(out, 'worker01.log')}' || [ ! -d '${dir}' ]; do sleep 0.01; done`
    write(dir, 't/test_a.sh', `echo out-line\n${logged('out-line')}\necho err-line >&2\n${logged('err-line')}\nprintf "no newline at end"\n`)
    const result = await run({ paths: ['t'], cwd: dir, out, workers: 1 })
    const t = result.tests[0]!
    const log = readFileSync(join(out, 'worker01.log'))
    const section = log.subarray(t.log!.offset, t.log!.offset + t.log!.length).toString()
    expect(section).toMatch(/^=== t\/test_a\.sh \(attempt 1, started .*\)\nout-line\nerr-line\nno newline at end\n=== t\/test_a\.sh: passed in \d+ ms\n$/)
    expect(t.outputBytes).toBe(Buffer.byteLength('out-line\nerr-line\nno newline at end'))
  })
})
