import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ClaimrunError, run } from 'claimrun'
import { splitCommand, templateArgv } from '../../dist/src/plan/command.js'
import { tempDir, write } from '../support/helpers.js'

const NASTY = [
  'test a b.sh',
  "test quote'single.sh",
  'test "double".sh',
  'test $(touch pwned).sh',
  'test `touch pwned2`.sh',
  'test ünïcödé 测试.sh',
  "test a b'$(touch x)`.sh",
  '-test-leading-dash.sh',
]

describe('command resolution', () => {
  it('runs files with spaces, quotes, $(…), backticks and non-ASCII as one argument, interpreting nothing', async () => {
    const dir = tempDir()
    // Each test prints its own $0 so we can see it arrived as one intact argument.
    for (const name of NASTY) write(dir, `suite/${name}`, 'printf "%s" "$0" > "$0.seen"\n')
    const result = await run({ paths: NASTY.map((n) => `suite/${n}`), cwd: dir, out: join(dir, 'out') })
    expect(result.counts.passed).toBe(NASTY.length)
    for (const name of NASTY) expect(readFileSync(join(dir, 'suite', `${name}.seen`), 'utf8')).toBe(join(dir, 'suite', name))
    for (const injected of ['pwned', 'pwned2', 'x']) {
      expect(existsSync(join(dir, injected))).toBe(false)
      expect(existsSync(join(dir, 'suite', injected))).toBe(false)
    }
  })

  it('--cmd templates: {file} inside tokens, quoting, file appended when absent; the same nasty names survive', async () => {
    const dir = tempDir()
    for (const name of NASTY) write(dir, `suite/${name.replace(/\.sh$/, '.check')}`, 'printf "%s|%s" "$1" "$0" > "$0.seen"\n')
    const paths = NASTY.map((n) => `suite/${n.replace(/\.sh$/, '.check')}`)
    const result = await run({ paths, cwd: dir, out: join(dir, 'out'), cmd: `sh -c 'printf "%s|%s" "$1" "$0" > "$0.seen"' '{file}' "arg with space"` })
    expect(result.counts.passed).toBe(NASTY.length)
    for (const p of paths) expect(readFileSync(join(dir, `${p}.seen`), 'utf8')).toBe(`arg with space|${join(dir, p)}`)
    expect(existsSync(join(dir, 'pwned'))).toBe(false)
  })

  it('splits templates like a shell would quote, and nothing more', () => {
    expect(splitCommand(`python3 -u {file}`)).toEqual(['python3', '-u', '{file}'])
    expect(splitCommand(`a 'b c' "d \\"e\\"" f\\ g '$(x)' $HOME`)).toEqual(['a', 'b c', 'd "e"', 'f g', '$(x)', '$HOME'])
    expect(splitCommand(`x '' ""`)).toEqual(['x', '', ''])
    expect(templateArgv(['node', '--flag'], '/t/a b.js')).toEqual(['node', '--flag', '/t/a b.js'])
    expect(templateArgv(['run', '--file={file}'], '/t/x')).toEqual(['run', '--file=/t/x'])
    expect(() => splitCommand(`python3 'unclosed {file}`)).toThrow(/unclosed ' quote/)
    expect(() => splitCommand('   ')).toThrow(/--cmd is empty/)
  })

  it('picks the interpreter: shebang executable directly, .js with node, .py with python3, .sh with sh', async () => {
    const dir = tempDir()
    write(dir, 't/test_exec', '#!/bin/sh\necho "exec:$0"\n', 0o755)
    write(dir, 't/test_node.js', 'console.log("node:" + process.release.name)\n')
    write(dir, 't/test_node.mjs', 'console.log("esm:" + typeof import.meta.url)\n')
    write(dir, 't/test_py.py', 'import sys\nprint("py:" + sys.version.split()[0])\n')
    write(dir, 't/test_sh.sh', 'echo "sh:ok"\n')
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 2 })
    const tails = Object.fromEntries(result.tests.map((t) => [t.id, t.tail.trim()]))
    expect(result.counts.passed).toBe(5)
    expect(tails['t/test_exec']).toBe(`exec:${join(dir, 't/test_exec')}`)
    expect(tails['t/test_node.js']).toBe('node:node')
    expect(tails['t/test_node.mjs']).toBe('esm:string')
    expect(tails['t/test_py.py']).toMatch(/^py:3\./)
    expect(tails['t/test_sh.sh']).toBe('sh:ok')
  })

  it('a file of unknown type without the executable bit is bad input: nothing runs', async () => {
    const dir = tempDir()
    write(dir, 't/test_ok.sh', 'touch ran\n')
    write(dir, 't/test_data.txt', 'hello\n')
    const err = await run({ paths: ['t/test_ok.sh', 't/test_data.txt'], cwd: dir, out: join(dir, 'out') }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClaimrunError)
    expect((err as ClaimrunError).code).toBe('CLAIMRUN_UNKNOWN_TYPE')
    expect((err as Error).message).toMatch(/test_data\.txt.*--cmd/)
    expect(existsSync(join(dir, 'ran'))).toBe(false)
  })
})
