import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from 'claimrun'
import { isAlive, pidsIn, tempDir, write } from '../support/helpers.js'
import { FORK_PATHS, onForkPath } from '../support/fork-path.js'

describe.each(FORK_PATHS)('processes a test leaves behind ($name)', ({ path }) => {
  onForkPath(path)
  it('a test that backgrounds `sleep 300` holding its stdout: ends from its exit, the sleep is ended and counted', async () => {
    const dir = tempDir()
    const pids = join(dir, 'pids')
    write(dir, 't/test_bg.sh', `sleep 300 &\necho $! >> '${pids}'\necho started a background sleep\nexit 0\n`)
    const started = Date.now()
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out') })
    const t = result.tests[0]!
    expect(t.status).toBe('passed')
    expect(t.leaked).toBe(1)
    expect(t.tail).toContain('started a background sleep')
    expect(Date.now() - started).toBeLessThan(60_000)
    for (const pid of pidsIn(pids)) expect(isAlive(pid)).toBe(false)
  })

  it('one that redirected away from our pipes is found too; the test keeps the status its exit code says', async () => {
    const dir = tempDir()
    const pids = join(dir, 'pids')
    write(dir, 't/test_quiet_bg.sh', `sleep 300 >/dev/null 2>&1 &\necho $! >> '${pids}'\nsleep 300 >/dev/null 2>&1 &\necho $! >> '${pids}'\nexit 4\n`)
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out') })
    expect(result.tests[0]).toMatchObject({ status: 'failed', exitCode: 4, leaked: 2 })
    expect(result.tests[0]?.leaked).toBe(2)
    for (const pid of pidsIn(pids)) expect(isAlive(pid)).toBe(false)
  })
})
