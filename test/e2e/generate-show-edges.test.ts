import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir } from '../support/helpers.js'

/** One line on stderr, exit 2, nothing on stdout, no stack trace. */
function usageError(r: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1)
  expect(r.stderr).toMatch(message)
}

describe('generate and show at the edges', () => {
  it('generate into a folder under /proc ends with one line and exit 2 (never spins in mkdir)', async () => {
    usageError(await runCli(['generate', '/proc/claimrun-no-such/x'], { timeoutMs: 30_000 }), /^claimrun: could not write the suite into "\/proc\/claimrun-no-such\/x" \(ENOENT\); name a folder you can write to/)
  })

  it('generate refuses a count beyond its bound and a sleep beyond a day, writing nothing', async () => {
    const dir = tempDir()
    usageError(await runCli(['generate', 'suite', '--count', '1e9'], { cwd: dir }), /^claimrun: --count must be a whole number from 1 to 100000 \(received 1000000000\)/)
    usageError(await runCli(['generate', 'suite', '--max-ms', '1e12'], { cwd: dir }), /^claimrun: --max-ms must be a number of milliseconds, from --min-ms \(100\) to 86400000 \(a day\)/)
    expect(existsSync(join(dir, 'suite'))).toBe(false)
    const ok = await runCli(['generate', 'suite', '--count', '3', '--failures', '0'], { cwd: dir })
    expect(ok.code, ok.stderr).toBe(0)
    expect(readdirSync(join(dir, 'suite')).sort()).toEqual(['suite.json', 'test_01.js', 'test_02.js', 'test_03.js'])
  })

  it('show on a file says it is not a results folder; a results.json that is a FIFO is refused, not waited on', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
    usageError(await runCli(['show', 'passwd'], { cwd: dir }), /^claimrun: \S+\/passwd is not a results folder \(it is a file\); name the out folder of a claimrun run/)
    mkdirSync(join(dir, 'out'))
    expect(spawnSync('mkfifo', [join(dir, 'out', 'results.json')]).status).toBe(0)
    usageError(await runCli(['show', 'out'], { cwd: dir, timeoutMs: 30_000 }), /^claimrun: \S+\/out\/results\.json is not a regular file; name the out folder of a claimrun run/)
  })
})
