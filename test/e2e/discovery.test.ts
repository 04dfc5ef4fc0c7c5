import { chmodSync, mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from 'claimrun'
import { runCli, tempDir, write, readableCli } from '../support/helpers.js'

describe('discovery', () => {
  it('default pattern, natural order, node_modules and dot-folders skipped, duplicates once', async () => {
    const dir = tempDir()
    for (const name of ['test10.sh', 'test2.sh', 'a.test.js', 'b_test.py', 'c.spec.mjs', 'helper.sh', 'test_notes.md', 'sub/test1.sh']) {
      write(dir, `t/${name}`, name.endsWith('.js') || name.endsWith('.mjs') ? '' : name.endsWith('.py') ? 'pass\n' : 'exit 0\n')
    }
    write(dir, 't/test_exec_noext', '#!/bin/sh\nexit 0\n', 0o755)
    write(dir, 't/node_modules/test_dep.sh', 'exit 1\n')
    write(dir, 't/.hidden/test_secret.sh', 'exit 1\n')
    const result = await run({ paths: ['t', 't/test2.sh', './t/sub'], cwd: dir, out: join(dir, 'out') })
    expect(result.tests.map((t) => t.id)).toEqual([
      't/a.test.js', 't/b_test.py', 't/c.spec.mjs', 't/sub/test1.sh', 't/test_exec_noext', 't/test2.sh', 't/test10.sh',
    ])
    expect(result.exitCode).toBe(0)
  })

  it('--pattern picks files by base name, or by path below the folder when it has a /', async () => {
    const dir = tempDir()
    write(dir, 't/a/one.check.sh', 'exit 0\n')
    write(dir, 't/b/two.check.sh', 'exit 0\n')
    write(dir, 't/b/test_three.sh', 'exit 0\n')
    const byName = await run({ paths: ['t'], cwd: dir, out: join(dir, 'o1'), pattern: '*.check.sh' })
    expect(byName.tests.map((t) => t.id)).toEqual(['t/a/one.check.sh', 't/b/two.check.sh'])
    const byPath = await run({ paths: ['t'], cwd: dir, out: join(dir, 'o2'), pattern: 'b/*.sh' })
    expect(byPath.tests.map((t) => t.id)).toEqual(['t/b/test_three.sh', 't/b/two.check.sh'])
  })

  it('symlink loops end; a linked folder is walked once', async () => {
    const dir = tempDir()
    write(dir, 't/real/test_a.sh', 'exit 0\n')
    symlinkSync('..', join(dir, 't/real/loop'))
    symlinkSync(join(dir, 't'), join(dir, 't/self'))
    symlinkSync(join(dir, 't/real'), join(dir, 't/alias'))
    symlinkSync(join(dir, 'nowhere'), join(dir, 't/test_broken.sh'))
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out') })
    expect(result.tests).toHaveLength(1)
  })

  it('odd file names (leading -, quotes, newline, non-ASCII) run, and are escaped in the summary', async () => {
    const dir = tempDir()
    const names = ['-rf.sh', '--help.sh', `it's "quoted".sh`, 'new\nline.sh', 'tab\there.sh', 'ünïcödé.sh', 'esc\u001b[2Jape.sh']
    for (const name of names) write(dir, `t/${name}`, 'exit 0\n')
    const r = await runCli(['run', '--pattern', '*.sh', '--out', join(dir, 'out'), 't'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('t/new\\nline.sh')
    expect(r.stdout).toContain('t/tab\\there.sh')
    expect(r.stdout).toContain('t/esc\\x1b[2Jape.sh')
    expect(r.stdout).not.toContain('\u001b')
    expect(r.stdout).toMatch(/^7 passed, 0 failed/m)
  })

  it('an unreadable folder is a warning naming it; the rest run', async () => {
    const dir = tempDir()
    chmodSync(dir, 0o755)
    write(dir, 't/test_ok.sh', 'exit 0\n')
    write(dir, 't/locked/test_hidden.sh', 'exit 1\n')
    chmodSync(join(dir, 't/locked'), 0o000)
    mkdirSync(join(dir, 'out'), { mode: 0o777 })
    chmodSync(join(dir, 'out'), 0o777)
    // Root reads any folder, so when we are root the CLI runs as an unprivileged user.
    // (from a copy of the CLI it can read: the checkout may be in root's own mode-700 home folder).
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534, cli: readableCli() } : {}
    // Its temporary folder (code cache, spawner socket) in one this test removes, not the system's.
    const tmp = tempDir()
    chmodSync(tmp, 0o777)
    const r = await runCli(['run', 't', '--out', join(dir, 'out')], { cwd: dir, env: { TMPDIR: tmp }, ...asUser })
    chmodSync(join(dir, 't/locked'), 0o755)
    expect(r.stderr).toMatch(/^claimrun: warning: cannot read folder t\/locked \(EACCES\): skipped$/m)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^1 passed, 0 failed/m)
  })
})
