import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, startCli, tempDir, waitFor, write } from '../support/helpers.js'

/** A repository with one failing test that leaves a witness file when it runs. */
function project(): { root: string; witness: string } {
  const root = tempDir()
  mkdirSync(join(root, '.git'))
  const witness = join(root, 'ran')
  write(root, 't/test_fails.sh', `touch '${witness}'\nexit 1\n`)
  return { root, witness }
}

/** One line on stderr, no stack trace, no raw control character. */
function oneLine(stderr: string): void {
  expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1)
  expect(stderr).not.toMatch(/\n\s+at /)
  expect(stderr.trimEnd()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/)
}

describe('a config file that never ends or never loads', () => {
  it('a top-level await that never settles: one line, exit 2, the test beside it never runs (never exit 0)', async () => {
    const { root, witness } = project()
    write(root, 'claimrun.config.mjs', "import { EventEmitter, once } from 'node:events'\nawait once(new EventEmitter(), 'ready')\nexport default {}\n")
    const ends = await Promise.all([['run', 't'], ['run', 't', '--list']].map((args) => runCli(args, { cwd: root })))
    for (const r of ends) {
      expect(r.code, r.stderr).toBe(2)
      oneLine(r.stderr)
      expect(r.stderr).toMatch(/claimrun\.config\.mjs: could not be loaded \(still loading after \d+ s/)
      expect(r.stdout).toBe('')
    }
    expect(existsSync(witness)).toBe(false)
  })

  it('a config that exits the process with 0 while loading: the run ends with exit 3 and one line, never 0', async () => {
    const { root, witness } = project()
    write(root, 'claimrun.config.mjs', 'process.exit(0)\n')
    for (const args of [['run', 't'], ['run', 't', '--list']]) {
      const r = await runCli(args, { cwd: root })
      expect(r.code, r.stderr).toBe(3)
      oneLine(r.stderr)
      expect(r.stderr).toMatch(/^claimrun: claimrun run ended before it finished/)
    }
    expect(existsSync(witness)).toBe(false)
  })

  it('a config symlinked to /dev/zero is refused unread: one line, exit 2', async () => {
    const { root, witness } = project()
    symlinkSync('/dev/zero', join(root, 'claimrun.config.json'))
    const r = await runCli(['run', 't'], { cwd: root, timeoutMs: 30_000 })
    expect(r.code, r.stderr).toBe(2)
    oneLine(r.stderr)
    expect(r.stderr).toMatch(/claimrun\.config\.json: is not a regular file \(a character device\)/)
    expect(existsSync(witness)).toBe(false)
  })

  it('a FIFO config and a dangling config symlink: one line each, exit 2, nothing waited on forever', async () => {
    const cases: Array<[string, (file: string) => void, RegExp]> = [
      ['claimrun.config.json', (f) => expect(spawnSync('mkfifo', [f]).status).toBe(0), /claimrun\.config\.json: is not a regular file \(a FIFO\)/],
      ['claimrun.config.mjs', (f) => expect(spawnSync('mkfifo', [f]).status).toBe(0), /claimrun\.config\.mjs: is not a regular file \(a FIFO\)/],
      ['claimrun.config.json', (f) => symlinkSync('missing.json', f), /claimrun\.config\.json: is a symlink to a file that does not exist/],
    ]
    for (const [name, make, message] of cases) {
      const { root, witness } = project()
      make(join(root, name))
      const r = await runCli(['run', 't'], { cwd: root, timeoutMs: 30_000 })
      expect(r.code, `${name}: ${r.stderr}`).toBe(2)
      oneLine(r.stderr)
      expect(r.stderr).toMatch(message)
      expect(existsSync(witness)).toBe(false)
    }
  })

  it('a config stuck in `while (true) {}` is ended by SIGTERM and by SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const { root, witness } = project()
      const looping = join(root, 'looping')
      write(root, 'claimrun.config.js', `require('node:fs').writeFileSync(${JSON.stringify(looping)}, '')\nwhile (true) {}\n`)
      const cli = startCli(['run', 't'], { cwd: root })
      await waitFor(() => existsSync(looping), 'the config to start looping', 30_000)
      cli.child.kill(signal)
      // Before the fix the signal was caught by claimrun's handler, which never ran: this never ended.
      const end = await cli.exited
      expect(end.signal ?? end.code, signal).toBe(signal === 'SIGTERM' ? 'SIGTERM' : 'SIGINT')
      expect(existsSync(witness)).toBe(false)
    }
  })

  it("a thrown error's text and a throwing getter: one escaped line, exit 2, never an internal error", async () => {
    const cases: Array<[string, RegExp]> = [
      ['throw new Error("line one\\nline two \\u001b[31mred")\n', /could not be loaded \(line one\\nline two \\x1b\[31mred\)/],
      ['export default { get workers() { throw new Error("no workers today") } }\n', /could not be loaded \(no workers today\)/],
      ['export default { env: { get FOO() { throw new Error("deep getter") } } }\n', /could not be loaded \(deep getter\)/],
    ]
    for (const [source, message] of cases) {
      const { root, witness } = project()
      write(root, 'claimrun.config.mjs', source)
      const r = await runCli(['run', 't'], { cwd: root })
      expect(r.code, r.stderr).toBe(2)
      oneLine(r.stderr)
      expect(r.stderr).toMatch(message)
      expect(r.stderr).not.toMatch(/internal error/)
      expect(existsSync(witness)).toBe(false)
    }
  })
})
