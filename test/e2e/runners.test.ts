import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../../dist/src/options/resolve.js'
import { planTests } from '../../dist/src/plan/plan.js'
import { runCli, tempDir, write } from '../support/helpers.js'
import { claimrunVerdicts, nativeVerdicts } from '../support/native.js'

/** A repository with tests in four languages, each kind needing its own runner. */
function mixedRepo(): string {
  const dir = tempDir()
  write(dir, 'test/a.test.mjs', "import test from 'node:test'\nimport assert from 'node:assert'\ntest('adds', () => assert.equal(1 + 1, 2))\n")
  write(dir, 'test/b.test.mjs', "import test from 'node:test'\nimport assert from 'node:assert'\ntest('breaks', () => assert.equal(1 + 1, 3))\n")
  write(dir, 'test/c-test.mjs', "import test from 'node:test'\ntest('named as node --test names it', () => {})\n")
  // Passes only under bash: the config file's runner for *.sh says bash.
  write(dir, 'test/d.test.sh', '[ -n "$BASH_VERSION" ] || { echo "not bash" >&2; exit 1; }\necho "bash $BASH_VERSION"\n')
  write(dir, 't/e.t', 'use Test::More tests => 1;\nok(1, "perl");\n')
  write(dir, 'tests/conftest.py', '')
  write(dir, 'tests/test_f.py', 'def test_f():\n    assert [1, 2] == [1, 2]\n')
  write(dir, 'tests/test_g.py', 'def test_g():\n    assert {"a": 1} == {"a": 2}\n')
  write(dir, 'claimrun.config.json', JSON.stringify({ paths: ['test', 't', 'tests'], runners: { '*.sh': 'bash {file}' } }))
  return dir
}

const ENV = { VIRTUAL_ENV: '', PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' }

describe('runners per kind of file', () => {
  it('a mixed repository runs each kind through its own runner in one run, and each verdict is its native runner\'s', async () => {
    const dir = mixedRepo()
    const nativeOf: Record<string, string[]> = {
      'test/a.test.mjs': [process.execPath, '--test', 'test/a.test.mjs'],
      'test/b.test.mjs': [process.execPath, '--test', 'test/b.test.mjs'],
      'test/c-test.mjs': [process.execPath, '--test', 'test/c-test.mjs'],
      'test/d.test.sh': ['bash', 'test/d.test.sh'],
      't/e.t': ['prove', 't/e.t'],
      'tests/test_f.py': ['python3', '-m', 'pytest', 'tests/test_f.py'],
      'tests/test_g.py': ['python3', '-m', 'pytest', 'tests/test_g.py'],
    }
    const native = nativeVerdicts(Object.keys(nativeOf), (id) => nativeOf[id] as string[], dir, ENV)
    const ours = await claimrunVerdicts([], dir, ENV)
    expect(ours.verdicts).toEqual(native)
    expect(native).toEqual({
      'test/a.test.mjs': 'pass',
      'test/b.test.mjs': 'fail',
      'test/c-test.mjs': 'pass',
      'test/d.test.sh': 'pass',
      't/e.t': 'pass',
      'tests/test_f.py': 'pass',
      'tests/test_g.py': 'fail',
    })
    expect(ours.tails['test/d.test.sh']).toMatch(/^bash \d/)
    expect(ours.tails['tests/test_g.py']).toMatch(/1 failed/)
  })

  it('a --runner flag wins over the config file, the first matching glob wins, and --cmd overrides every runner', async () => {
    const dir = mixedRepo()
    const flagged = await claimrunVerdicts(['test/d.test.sh', '--runner', '*.test.sh=sh {file}'], dir, ENV)
    expect(flagged.verdicts).toEqual({ 'test/d.test.sh': 'fail' })
    expect(flagged.tails['test/d.test.sh']).toBe('not bash\n')
    const listed = await runCli(['run', '--list', '--json', '--runner', 't/**=perl -w {file}', '--runner', '*.t=false'], { cwd: dir, env: ENV })
    expect(listed.code, listed.stderr).toBe(0)
    const argvOf = (id: string): string[] => (JSON.parse(listed.stdout) as { tests: Array<{ id: string; argv: string[] }> }).tests.find((t) => t.id === id)?.argv ?? []
    expect(argvOf('t/e.t')).toEqual(['perl', '-w', join(dir, 't/e.t')])
    expect(argvOf('test/d.test.sh')).toEqual(['bash', join(dir, 'test/d.test.sh')])
    const cmd = await runCli(['run', '--list', '--json', '--cmd', 'cat {file}', '--runner', '*.t=false'], { cwd: dir, env: ENV })
    expect((JSON.parse(cmd.stdout) as { tests: Array<{ argv: string[] }> }).tests.map((t) => t.argv[0])).toEqual(Array(7).fill('cat'))
  })

  it('the plan marks a .t file and a runner declared { "tap": true } as TAP to read strictly, and nothing else', () => {
    const dir = tempDir()
    write(dir, 't/a.t', 'print "1..1\\nok 1\\n";\n')
    write(dir, 'checks/b.test.sh', 'echo "1..1"; echo "ok 1"\n')
    write(dir, 'checks/c.test.sh', 'echo "ok 1 is just a log line"\n')
    write(dir, 'checks/d.test.mjs', '')
    const plan = planTests(resolveOptions({ cwd: dir, paths: ['t', 'checks'], runners: { 'b.test.sh': { cmd: 'sh {file}', tap: true }, '*.sh': 'sh {file}' } }))
    expect(plan.tests.map((t: { id: string; tap?: string }) => [t.id, t.tap ?? 'auto'])).toEqual([
      ['t/a.t', 'strict'],
      ['checks/b.test.sh', 'strict'],
      ['checks/c.test.sh', 'auto'],
      ['checks/d.test.mjs', 'auto'],
    ])
  })

  it('a runner that is not a command template, or a --runner without GLOB=: one line naming it, exit 2', async () => {
    const dir = tempDir()
    write(dir, 'test/a.test.sh', 'exit 0\n')
    const noGlob = await runCli(['run', '--runner', 'tsx {file}'], { cwd: dir })
    expect([noGlob.code, noGlob.stderr.trim()]).toEqual([2, `claimrun: --runner must be GLOB=TEMPLATE, such as --runner '*.ts=tsx {file}' (received "tsx {file}") (see claimrun run --help)`])
    write(dir, 'claimrun.config.json', JSON.stringify({ runners: { '*.ts': { cmd: 'tsx {file}', tap: 'yes' } } }))
    const badTap = await runCli(['run'], { cwd: dir })
    expect(badTap.code).toBe(2)
    expect(badTap.stderr.trim()).toBe('claimrun: claimrun.config.json, key "runners": --runner "*.ts" must be a command template such as "tsx {file}", or { "cmd": "<template>", "tap": true } (received {"cmd":"tsx {file}","tap":"yes"}) (see claimrun run --help)')
    // A bad --runner beside a good "runners" key is the command line's, not the file's.
    write(dir, 'claimrun.config.json', JSON.stringify({ runners: { '*.sh': 'sh {file}' } }))
    const flagBeside = await runCli(['run', '--runner', '*.sh=sh {file} | tee'], { cwd: dir })
    expect([flagBeside.code, flagBeside.stderr]).toEqual([2, expect.stringMatching(/^claimrun: --runner "\*\.sh" "sh \{file\} \| tee" holds the shell operator "\|"/)])
    write(dir, 'claimrun.config.json', JSON.stringify({ runners: ['tsx'] }))
    const notObject = await runCli(['run'], { cwd: dir })
    expect(notObject.code).toBe(2)
    expect(notObject.stderr).toMatch(/^claimrun: claimrun\.config\.json, key "runners": must be an object of glob → command template/)
  })

  it('claimrun run without paths takes test/, else the test folders of other ecosystems; with none it names them', async () => {
    const dir = tempDir()
    write(dir, 'spec/a.spec.sh', 'exit 0\n', 0o755)
    write(dir, 'tests/test_b.sh', 'exit 0\n')
    const both = await claimrunVerdicts([], dir)
    expect(both.verdicts).toEqual({ 'tests/test_b.sh': 'pass', 'spec/a.spec.sh': 'pass' })
    const none = await runCli(['run'], { cwd: tempDir() })
    expect([none.code, none.stderr.trim()]).toEqual([2, 'claimrun: no paths given and no test folder here (test/, tests/, t/, spec/): name the tests to run, e.g. claimrun run path/to/tests (see claimrun run --help)'])
    write(dir, 'test/readme.md', 'no tests in test/ yet\n')
    const empty = await runCli(['run'], { cwd: dir })
    expect(empty.code).toBe(2)
    expect(empty.stderr).toMatch(/^claimrun: no tests in "test" with the default pattern .*; tests may be in tests\/ or spec\/: claimrun run tests spec; or pass --pattern/)
  })
})
