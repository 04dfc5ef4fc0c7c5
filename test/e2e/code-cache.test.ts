// V8's code cache for the CLI's bundles on Node 20 (src/util/code-cache.ts): written by a first
// run, used by the next, rewritten when stale, and never taken from a folder others could write.
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir, write } from '../support/helpers.js'

// Node 22.1+ caches every module itself (module.enableCompileCache): claimrun then keeps no cache of its own.
const nodeCaches = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function'
const uid = process.getuid?.() ?? -1

/** One run of a one-test suite with CLAIMRUN_TRACE, TMPDIR in `tmp`: what each bundle did with the cache. */
async function traced(tmp: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const dir = tempDir()
  write(dir, 't/test_one.sh', 'echo one\n')
  const r = await runCli(['run', 't', '--no-history', '--no-progress', '--out', join(dir, 'out')], { cwd: dir, env: { TMPDIR: tmp, CLAIMRUN_TRACE: '1', ...env } })
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout).toMatch(/^1 passed, 0 failed/m)
  return [...r.stderr.matchAll(/code cache: (\S+ \S+)/g)].map((m) => m[1] as string).sort()
}

describe.skipIf(nodeCaches || uid < 0)('code cache (Node 20)', () => {
  it('a first run writes it into a folder only this user can enter; the next run uses it', async () => {
    const tmp = tempDir()
    expect(await traced(tmp)).toEqual(['cli-main.cjs none', 'piscina-main.js none', 'workers-worker.cjs none'])
    const cache = join(tmp, `claimrun-code-cache-${uid}`)
    const stat = lstatSync(cache)
    expect(stat.isDirectory()).toBe(true)
    expect(stat.mode & 0o777).toBe(0o700)
    const entries = readdirSync(cache).sort()
    expect(entries).toHaveLength(3)
    expect(entries[0]).toMatch(/^cli-main\.cjs-\w+-v[\d.]+-\w+\.bin$/)
    expect(entries[1]).toMatch(/^piscina-main\.js-\w+-v[\d.]+-\w+\.bin$/)
    expect(entries[2]).toMatch(/^workers-worker\.cjs-\w+-v[\d.]+-\w+\.bin$/)
    for (const entry of entries) expect(lstatSync(join(cache, entry)).mode & 0o777).toBe(0o600)
    expect(await traced(tmp)).toEqual(['cli-main.cjs used', 'piscina-main.js used', 'workers-worker.cjs used'])
  })

  it('a damaged entry is rejected by V8, the run is unharmed, and the entry is written anew', async () => {
    const tmp = tempDir()
    await traced(tmp)
    const cache = join(tmp, `claimrun-code-cache-${uid}`)
    const entries = readdirSync(cache)
    for (const entry of entries) writeFileSync(join(cache, entry), Buffer.alloc(4096, 7))
    expect(await traced(tmp)).toEqual(['cli-main.cjs rejected', 'piscina-main.js rejected', 'workers-worker.cjs rejected'])
    for (const entry of entries) expect(readFileSync(join(cache, entry)).equals(Buffer.alloc(4096, 7))).toBe(false)
    expect(await traced(tmp)).toEqual(['cli-main.cjs used', 'piscina-main.js used', 'workers-worker.cjs used'])
  })

  it('a folder of that name open to others, or a link, is not used: the run compiles as without a cache', async () => {
    const open = tempDir()
    mkdirSync(join(open, `claimrun-code-cache-${uid}`), { mode: 0o777 })
    chmodSync(join(open, `claimrun-code-cache-${uid}`), 0o777)
    expect(await traced(open)).toEqual([])
    expect(readdirSync(join(open, `claimrun-code-cache-${uid}`))).toEqual([])

    const linked = tempDir()
    const elsewhere = tempDir()
    chmodSync(elsewhere, 0o700)
    symlinkSync(elsewhere, join(linked, `claimrun-code-cache-${uid}`))
    expect(await traced(linked)).toEqual([])
    expect(readdirSync(elsewhere)).toEqual([])
  })

  it('NODE_DISABLE_COMPILE_CACHE=1 turns it off: no folder is made', async () => {
    const tmp = tempDir()
    expect(await traced(tmp, { NODE_DISABLE_COMPILE_CACHE: '1' })).toEqual([])
    expect(readdirSync(tmp)).toEqual([])
  })
})
