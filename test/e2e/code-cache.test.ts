// V8's code cache for the CLI's bundles on Node 20 (src/util/code-cache.ts): written by a first
// run, used by the next, rewritten when stale, and never taken from a folder others could write.
import { chmodSync, copyFileSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT, runCli, tempDir, write } from '../support/helpers.js'

// Node 22.1+ caches every module itself (module.enableCompileCache): claimrun then keeps no cache of its own.
const nodeCaches = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function'
const uid = process.getuid?.() ?? -1

/** One run of a one-test suite with CLAIMRUN_TRACE, TMPDIR in `tmp`: what each bundle did with the cache. */
async function traced(tmp: string, env: NodeJS.ProcessEnv = {}, cli?: string, summary = /^1 passed, 0 failed/m): Promise<string[]> {
  const dir = tempDir()
  write(dir, 't/test_one.sh', 'echo one\n')
  const r = await runCli(['run', 't', '--no-history', '--no-progress', '--out', join(dir, 'out')], { cwd: dir, env: { TMPDIR: tmp, CLAIMRUN_TRACE: '1', ...env }, cli })
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout).toMatch(summary)
  return [...r.stderr.matchAll(/code cache: (\S+ \S+)/g)].map((m) => m[1] as string).sort()
}

describe.skipIf(nodeCaches || uid < 0)('code cache (Node 20)', () => {
  it('a first run writes it into a folder only this user can enter; the next run uses it', async () => {
    const tmp = tempDir()
    // Another command writes no entry: it would hold less than a run compiles, and stay.
    const other = await runCli(['generate', join(tempDir(), 'suite')], { env: { TMPDIR: tmp } })
    expect(other.code, other.stderr).toBe(0)
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
    // Each entry's first line names the bundle's file as it was; V8's bytecode follows.
    const damaged = (entry: string): Buffer => {
      const data = readFileSync(join(cache, entry))
      return Buffer.concat([data.subarray(0, data.indexOf(10) + 1), Buffer.alloc(4096, 7)])
    }
    for (const entry of entries) writeFileSync(join(cache, entry), damaged(entry))
    expect(await traced(tmp)).toEqual(['cli-main.cjs rejected', 'piscina-main.js rejected', 'workers-worker.cjs rejected'])
    for (const entry of entries) expect(readFileSync(join(cache, entry)).includes(Buffer.alloc(4096, 7))).toBe(false)
    expect(await traced(tmp)).toEqual(['cli-main.cjs used', 'piscina-main.js used', 'workers-worker.cjs used'])
  })

  it('a bundle rebuilt in place at the same length is compiled from its new source, not run from the old entry', async () => {
    // V8 checks an entry against the source's length only: a copy of the package whose main.cjs
    // then changes by a few same-length characters (as a rebuild or a reinstall may).
    const install = tempDir()
    cpSync(join(ROOT, 'dist'), join(install, 'dist'), { recursive: true })
    copyFileSync(join(ROOT, 'package.json'), join(install, 'package.json'))
    symlinkSync(join(ROOT, 'node_modules'), join(install, 'node_modules'))
    symlinkSync(join(ROOT, 'assets'), join(install, 'assets'))
    const cli = join(install, 'dist/src/cli/bin.cjs')
    const tmp = tempDir()
    expect(await traced(tmp, {}, cli)).toEqual(['cli-main.cjs none', 'piscina-main.js none', 'workers-worker.cjs none'])
    const main = join(install, 'dist/src/cli/main.cjs')
    const before = readFileSync(main, 'utf8')
    const after = before.replace('${t.passed} passed, ', '${t.passed} PASSED, ')
    expect(after).not.toBe(before)
    writeFileSync(main, after)
    expect(await traced(tmp, {}, cli, /^1 PASSED, 0 failed/m)).toEqual(['cli-main.cjs stale', 'piscina-main.js used', 'workers-worker.cjs used'])
    expect(await traced(tmp, {}, cli, /^1 PASSED, 0 failed/m)).toEqual(['cli-main.cjs used', 'piscina-main.js used', 'workers-worker.cjs used'])
  })

  it('an entry whose bundle is gone, and a temp file a killed writer left, are removed when entries are written', async () => {
    const tmp = tempDir()
    const cache = join(tmp, `claimrun-code-cache-${uid}`)
    // A copy of the package, run once (its three entries), then removed, as a checkout or an npx install may be.
    const install = tempDir()
    cpSync(join(ROOT, 'dist'), join(install, 'dist'), { recursive: true })
    copyFileSync(join(ROOT, 'package.json'), join(install, 'package.json'))
    symlinkSync(join(ROOT, 'node_modules'), join(install, 'node_modules'))
    symlinkSync(join(ROOT, 'assets'), join(install, 'assets'))
    expect(await traced(tmp, {}, join(install, 'dist/src/cli/bin.cjs'))).toEqual(['cli-main.cjs none', 'piscina-main.js none', 'workers-worker.cjs none'])
    const gone = readdirSync(cache)
    expect(gone).toHaveLength(3)
    rmSync(install, { recursive: true, force: true })
    // Temp files of writers killed before their rename: one old enough to be left for good, one maybe still being written.
    const left = 'cli-main.cjs-x1-v0-x64.bin.4242.abc'
    const fresh = 'cli-main.cjs-x2-v0-x64.bin.4343.def'
    for (const name of [left, fresh]) writeFileSync(join(cache, name), 'partial')
    utimesSync(join(cache, left), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000))
    // An entry of an earlier format, which names no bundle.
    writeFileSync(join(cache, 'cli-main.cjs-x3-v0-x64.bin'), '1-2-3\nbytecode')
    // The package itself, run with the same folder, writes its entries, and prunes.
    expect(await traced(tmp)).toEqual(['cli-main.cjs none', 'piscina-main.js none', 'workers-worker.cjs none'])
    const now = readdirSync(cache).sort()
    expect(now.filter((name) => gone.includes(name))).toEqual([])
    expect(now).not.toContain(left)
    expect(now).not.toContain('cli-main.cjs-x3-v0-x64.bin')
    expect(now).toContain(fresh)
    expect(now.filter((name) => name.endsWith('.bin'))).toHaveLength(3)
    // The entries that remain are the package's own, and are used.
    expect(await traced(tmp)).toEqual(['cli-main.cjs used', 'piscina-main.js used', 'workers-worker.cjs used'])
  })

  it('a run whose test floods its output writes entries the next run uses (the worker turns V8\'s flags back)', async () => {
    // A flood past 8 MB has the worker reclaim its buffers with a gc it reaches through a V8 flag;
    // the cache is checked against the process's flags, so one left set spoiled every entry written after.
    const tmp = tempDir()
    const dir = tempDir()
    write(dir, 't/test_flood.sh', 'head -c 20000000 /dev/zero | tr "\\0" x\n')
    const run = async (): Promise<string[]> => {
      const r = await runCli(['run', 't', '--no-history', '--no-progress', '--out', join(dir, 'out')], { cwd: dir, env: { TMPDIR: tmp, CLAIMRUN_TRACE: '1' } })
      expect(r.code, r.stderr).toBe(0)
      return [...r.stderr.matchAll(/code cache: (\S+ \S+)/g)].map((m) => m[1] as string).sort()
    }
    expect(await run()).toEqual(['cli-main.cjs none', 'piscina-main.js none', 'workers-worker.cjs none'])
    expect(await run()).toEqual(['cli-main.cjs used', 'piscina-main.js used', 'workers-worker.cjs used'])
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

describe.runIf(nodeCaches && uid >= 0)('compile cache (Node 22.1+)', () => {
  it("goes into claimrun's checked folder, never into a node-compile-cache someone else could have made", async () => {
    const tmp = tempDir()
    // Left to itself, Node would use <tmpdir>/node-compile-cache, whoever made it.
    mkdirSync(join(tmp, 'node-compile-cache'))
    chmodSync(join(tmp, 'node-compile-cache'), 0o777)
    await traced(tmp)
    await traced(tmp)
    expect(readdirSync(join(tmp, 'node-compile-cache'))).toEqual([])
    expect(readdirSync(join(tmp, `claimrun-code-cache-${uid}`, 'node'))).toHaveLength(1)
    expect(lstatSync(join(tmp, `claimrun-code-cache-${uid}`)).mode & 0o777).toBe(0o700)
  })
})
