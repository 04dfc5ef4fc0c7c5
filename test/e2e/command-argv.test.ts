import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir, write } from '../support/helpers.js'

/** A project with one passing test; nothing else is in it, so any file a command creates shows. */
function project(): { dir: string; files: () => string[] } {
  const dir = tempDir()
  write(dir, 'test/a.test.sh', 'exit 0\n')
  return { dir, files: () => readdirSync(dir).sort() }
}

describe('commands are argv, never shell', () => {
  const refused: Array<[string, string[], string]> = [
    ['&& in --setup', ['--setup', 'touch db.ready && echo up'], `--setup "touch db.ready && echo up" holds the shell operator "&&", but commands run as argv, never through a shell; write --setup "sh -c 'touch db.ready && echo up'" for a shell, or quote the "&&" to pass it as text`],
    ['|| in --teardown', ['--teardown', 'rm -f db.ready || true'], '--teardown "rm -f db.ready || true" holds the shell operator "||"'],
    ['| in --cmd', ['--cmd', 'sh {file} | tee log'], '--cmd "sh {file} | tee log" holds the shell operator "|"'],
    ['; in --cmd', ['--cmd', 'cd sub; sh {file}'], '--cmd "cd sub; sh {file}" holds the shell operator ";"'],
    ['> in --cmd', ['--cmd', 'sh {file} >out.log'], '--cmd "sh {file} >out.log" holds the shell operator ">"'],
    ['< in --cmd', ['--cmd', 'sh {file} < input'], '--cmd "sh {file} < input" holds the shell operator "<"'],
    ['$( in --cmd', ['--cmd', 'sh $(echo {file})'], '--cmd "sh $(echo {file})" holds the shell operator "$("'],
    ['a backtick in --cmd', ['--cmd', 'sh `echo {file}`'], '--cmd "sh `echo {file}`" holds the shell operator "`"'],
    ['&& in a --runner template', ['--runner', '*.sh=touch x && sh {file}'], '--runner "*.sh" "touch x && sh {file}" holds the shell operator "&&"'],
  ]
  for (const [what, args, message] of refused) {
    it(`${what} is refused with one line suggesting sh -c, exit 2, nothing run or created`, async () => {
      const { dir, files } = project()
      const before = files()
      const r = await runCli(['run', ...args, '--no-history', '--out', join(dir, 'out')], { cwd: dir })
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toContain(`claimrun: ${message}`)
      expect(r.stderr).toContain("sh -c '")
      expect(files()).toEqual(before)
    })
  }

  it('a runner template with an operator in the config file: one line naming the file and the key', async () => {
    const { dir, files } = project()
    write(dir, 'claimrun.config.json', JSON.stringify({ runners: { '*.sh': 'sh {file} > log' } }))
    const before = files()
    const r = await runCli(['run', '--no-history', '--out', join(dir, 'out')], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^claimrun: claimrun\.config\.json, key "runners": --runner "\*\.sh" "sh \{file\} > log" holds the shell operator ">"/)
    expect(files()).toEqual(before)
  })

  it('quoted operators are data: sh -c \'…\' runs its shell line, and a quoted "&&" is one argument', async () => {
    const { dir } = project()
    const r = await runCli(['run', '--no-history', '--out', join(dir, 'out'),
      '--setup', `sh -c 'echo one > setup.out && echo two >> setup.out'`,
      '--cmd', `sh -c 'printf "%s|" "$@" > args.out; sh "$0"' {file} "&&" '|' "a;b"`], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(join(dir, 'setup.out'), 'utf8')).toBe('one\ntwo\n')
    expect(readFileSync(join(dir, 'args.out'), 'utf8')).toBe('&&|||a;b|')
    for (const stray of ['&&', 'echo', 'up', 'two']) expect(existsSync(join(dir, stray))).toBe(false)
  })
})
