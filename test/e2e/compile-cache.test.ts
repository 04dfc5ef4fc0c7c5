// Node's compile cache (Node 22.1+, src/cli/compile-cache.ts): kept in claimrun's own folder, checked
// to be this user's and closed to others, never in a folder someone else could have made.
import { chmodSync, lstatSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir, write } from '../support/helpers.js'

const nodeCaches = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function'
const uid = process.getuid?.() ?? -1

/** One run of a one-test suite with TMPDIR set to `tmp`. */
async function runOne(tmp: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const dir = tempDir()
  write(dir, 't/test_one.sh', 'echo one\n')
  const r = await runCli(['run', 't', '--no-history', '--no-progress', '--out', join(dir, 'out')], { cwd: dir, env: { TMPDIR: tmp, ...env } })
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout).toMatch(/^1 passed, 0 failed/m)
}

describe.runIf(nodeCaches && uid >= 0)('compile cache', () => {
  it("goes into claimrun's own folder, mode 700, never into a node-compile-cache someone else could have made", async () => {
    const tmp = tempDir()
    // Left to itself, Node would use <tmpdir>/node-compile-cache, whoever made it.
    mkdirSync(join(tmp, 'node-compile-cache'))
    chmodSync(join(tmp, 'node-compile-cache'), 0o777)
    await runOne(tmp)
    await runOne(tmp)
    expect(readdirSync(join(tmp, 'node-compile-cache'))).toEqual([])
    expect(readdirSync(join(tmp, `claimrun-code-cache-${uid}`, 'node'))).toHaveLength(1)
    expect(lstatSync(join(tmp, `claimrun-code-cache-${uid}`)).mode & 0o777).toBe(0o700)
  })

  it('a folder of that name open to others, or a link, is not used: the run compiles as without a cache', async () => {
    const open = tempDir()
    mkdirSync(join(open, `claimrun-code-cache-${uid}`), { mode: 0o777 })
    chmodSync(join(open, `claimrun-code-cache-${uid}`), 0o777)
    await runOne(open)
    expect(readdirSync(join(open, `claimrun-code-cache-${uid}`))).toEqual([])

    const linked = tempDir()
    const elsewhere = tempDir()
    chmodSync(elsewhere, 0o700)
    symlinkSync(elsewhere, join(linked, `claimrun-code-cache-${uid}`))
    await runOne(linked)
    expect(readdirSync(elsewhere)).toEqual([])
  })

  it('NODE_DISABLE_COMPILE_CACHE=1 turns it off: no folder is made', async () => {
    const tmp = tempDir()
    await runOne(tmp, { NODE_DISABLE_COMPILE_CACHE: '1' })
    expect(readdirSync(tmp)).toEqual([])
  })
})
