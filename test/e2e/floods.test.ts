import { execFile } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { TestResult } from 'claimrun'
import { tempDir, write } from '../support/helpers.js'
import { FORK_PATHS, onForkPath } from '../support/fork-path.js'

const RSS_RUN = new URL('../support/rss-run.mjs', import.meta.url).pathname

async function measure(cwd: string, path: string, out: string, maxOutput?: number): Promise<{ maxRssKiB: number; tests: TestResult[] }> {
  const args = [RSS_RUN, cwd, path, out, ...(maxOutput ? [String(maxOutput)] : [])]
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 })
  return JSON.parse(stdout)
}

describe.each(FORK_PATHS)('floods ($name)', ({ path }) => {
  onForkPath(path)
  it('1 GiB on stdout: the run finishes, the log is capped with a marker, peak RSS rises < 64 MiB over a quiet run', async () => {
    const dir = tempDir()
    write(dir, 'quiet/test_quiet.sh', 'echo hello\n')
    write(dir, 'flood/test_flood.sh', 'yes "a line of output that repeats" | head -c 1073741824\necho "the very end"\n')
    const quiet = await measure(dir, 'quiet', join(dir, 'out-quiet'))
    const flood = await measure(dir, 'flood', join(dir, 'out-flood'))
    const t = flood.tests[0]!
    expect(t.status).toBe('passed')
    expect(t.outputBytes).toBe(1073741824 + 'the very end\n'.length)
    expect(t.droppedBytes).toBe(t.outputBytes - 50 * 1024 * 1024)
    expect(t.tail.endsWith('the very end\n')).toBe(true)
    const log = join(dir, 'out-flood', 'worker01.log')
    expect(statSync(log).size).toBeLessThan(50 * 1024 * 1024 + 4096)
    const end = readFileSync(log).subarray(-400).toString()
    expect(end).toContain(`[claimrun: output capped at ${50 * 1024 * 1024} bytes; ${t.droppedBytes} more bytes dropped]`)
    const riseMiB = (flood.maxRssKiB - quiet.maxRssKiB) / 1024
    console.log(`peak RSS: quiet ${(quiet.maxRssKiB / 1024).toFixed(1)} MiB, 1 GiB flood ${(flood.maxRssKiB / 1024).toFixed(1)} MiB (+${riseMiB.toFixed(1)} MiB)`)
    expect(riseMiB).toBeLessThan(64)
  }, 240_000) // two runs that move 1 GiB each: a guard against a hang on a loaded machine, not a speed claim

  it('one 100 MiB line without a newline, and bytes that are not UTF-8: bounded tail, run finishes', async () => {
    const dir = tempDir()
    write(dir, 't/test_longline.sh', "head -c 104857600 /dev/zero | tr '\\0' x\n")
    write(dir, 't/test_binary.sh', "printf 'ok \\377\\376 bad \\300 bytes\\n'\nexit 1\n")
    const { tests } = await measure(dir, 't', join(dir, 'out'), 1024 * 1024)
    const byId = Object.fromEntries(tests.map((t) => [t.id, t]))
    const long = byId['t/test_longline.sh']!
    expect(long.outputBytes).toBe(104857600)
    expect(long.droppedBytes).toBe(104857600 - 1024 * 1024)
    expect(long.tail.length).toBeLessThanOrEqual(16 * 1024)
    expect(long.tail).toMatch(/^x+$/)
    const bin = byId['t/test_binary.sh']!
    expect(bin.status).toBe('failed')
    expect(bin.tail).toBe('ok \ufffd\ufffd bad \ufffd bytes\n')
  })
})
