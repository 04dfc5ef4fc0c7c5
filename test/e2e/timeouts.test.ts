import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from 'claimrun'
import { isAlive, pidsIn, tempDir, write } from '../support/helpers.js'
import { FORK_PATHS, onForkPath } from '../support/fork-path.js'

describe.each(FORK_PATHS)('per-test timeout ($name)', ({ path }) => {
  onForkPath(path)
  it('ends the whole process group (grandchild too) with TERM, then KILL after the grace; status timedout, output kept', async () => {
    const dir = tempDir()
    const pids = join(dir, 'pids')
    // The test starts a grandchild that ignores SIGTERM, records both pids, prints, and hangs.
    write(dir, 't/test_hang.sh', [
      `sh -c 'trap "" TERM; echo $$ >> "${pids}"; while :; do sleep 1; done' &`,
      `echo $$ >> '${pids}'`,
      'echo "working before the hang"',
      'while :; do sleep 1; done',
    ].join('\n') + '\n')
    write(dir, 't/test_quick.sh', 'echo quick\n')
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), timeout: 1, killGrace: 0.5, workers: 2 })
    const hang = result.tests.find((t) => t.id === 't/test_hang.sh')!
    expect(hang.status).toBe('timedout')
    expect(hang.durationMs).toBeGreaterThanOrEqual(1000)
    expect(hang.tail).toContain('working before the hang')
    expect(readFileSync(join(dir, 'out', `${hang.worker}.log`), 'utf8')).toContain('working before the hang')
    expect(result.tests.find((t) => t.id === 't/test_quick.sh')?.status).toBe('passed')
    expect(result.exitCode).toBe(1)
    expect(existsSync(pids)).toBe(true)
    const recorded = pidsIn(pids)
    expect(recorded).toHaveLength(2)
    for (const pid of recorded) expect(isAlive(pid), `pid ${pid} survived the timeout`).toBe(false)
  })
})
