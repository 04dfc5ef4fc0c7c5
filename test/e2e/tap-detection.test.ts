import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { run, type TestResult } from 'claimrun'
import { tempDir, write } from '../support/helpers.js'

/**
 * One output a test prints, and the exit code it ends with. Each is run twice, by claimrun and by
 * prove on the same file: as a `.sh` script (auto mode; `prove --exec sh`) and as a Perl `.t`
 * (strict mode; plain `prove`).
 */
interface Case {
  name: string
  out: string
  exit: number
  /** Whether auto mode reads it as TAP (a version line or a plan confirms it); if not, the exit code decides. */
  auto: boolean
  /** Why claimrun and prove 3.44 part on purpose, where they do. */
  differs?: string
}

const CASES: Case[] = [
  { name: 'sh-ok-exit-0', out: 'ok 1\n', exit: 0, auto: false },
  { name: 'sh-ok-exit-1', out: 'ok 1\n', exit: 1, auto: false },
  { name: 'sh-not-ok-exit-0', out: 'not ok 1 - mentioned in a log\n', exit: 0, auto: false },
  { name: 'silent', out: '', exit: 0, auto: false },
  { name: 'not-tap-at-all', out: 'migrating...\ndone\n', exit: 0, auto: false },
  { name: 'upper-case-ok', out: 'OK 1 record migrated\n', exit: 0, auto: false },
  { name: 'upper-case-ok-under-a-plan', out: '1..1\nOK 1 record migrated\n', exit: 0, auto: true },
  { name: 'plan-with-a-comment', out: '1..1 # not a plan to TAP::Parser\nok 1\n', exit: 0, auto: false },
  { name: 'plan-not-from-1', out: '2..3\nok 2\nok 3\n', exit: 0, auto: false },
  { name: 'late-plan', out: 'ok 1 - a\nok 2 - b\n1..2\n', exit: 0, auto: true },
  { name: 'late-plan-not-ok', out: 'ok 1 - a\nnot ok 2 - b\n1..2\n', exit: 0, auto: true },
  { name: 'late-plan-after-log-and-yaml', out: 'ok 1 - a\n  ---\n  at: 1..9\n  ...\n# done\n1..1\n', exit: 0, auto: true },
  { name: 'subtest-first-failing', out: '# Subtest: inner\n    ok 1 - a\n    not ok 2 - b\n    1..2\nnot ok 1 - inner\n1..1\n', exit: 0, auto: true },
  { name: 'subtest-first-passing', out: '# Subtest: inner\n    ok 1 - a\n    1..1\nok 1 - inner\n1..1\n', exit: 0, auto: true },
  { name: 'not-ok-skip', out: '1..2\nok 1\nnot ok 2 # SKIP no database\n', exit: 0, auto: true },
  { name: 'not-ok-skip-lower-case', out: '1..1\nnot ok 1 # skip\n', exit: 0, auto: true },
  { name: 'not-ok-todo', out: '1..2\nok 1\nnot ok 2 # TODO later\n', exit: 0, auto: true },
  { name: 'ok-todo', out: '1..1\nok 1 # TODO\n', exit: 0, auto: true },
  { name: 'skip-all', out: '1..0 # SKIP no database\n', exit: 0, auto: true },
  { name: 'skip-all-then-not-ok', out: '1..0 # SKIP no database\nnot ok 1\n', exit: 0, auto: true },
  { name: 'skip-all-then-ok', out: '1..0 # SKIP no database\nok 1\n', exit: 0, auto: true },
  { name: 'more-points-than-planned', out: '1..1\nok 1\nok 2\n', exit: 0, auto: true },
  { name: 'plan-in-the-middle', out: 'ok 1\n1..2\nok 2\n', exit: 0, auto: true },
  { name: 'two-plans', out: '1..1\nok 1\n1..1\n', exit: 0, auto: true },
  { name: 'out-of-sequence', out: '1..2\nok 2\nok 1\n', exit: 0, auto: true },
  { name: 'no-numbers', out: '1..2\nok\nok - second\n', exit: 0, auto: true },
  { name: 'plan-todo-list', out: '1..2 todo 2\nok 1\nnot ok 2\n', exit: 0, auto: true },
  { name: 'bail-out-exit-0', out: '1..2\nok 1\nBail out! stop here\n', exit: 0, auto: true },
  { name: 'bail-out-lower-case', out: '1..1\nbail out! only a log line\nok 1\n', exit: 0, auto: true },
  { name: 'crlf', out: '1..1\r\nok 1\r\n', exit: 0, auto: true },
  { name: 'version-without-plan', out: 'TAP version 13\nok 1\n', exit: 0, auto: true },
  { name: 'version-after-plan', out: '1..1\nTAP version 13\nok 1\n', exit: 0, auto: true },
  { name: 'version-12', out: 'TAP version 12\n1..1\nok 1\n', exit: 0, auto: true },
  { name: 'version-14', out: 'TAP version 14\n1..1\nok 1\n', exit: 0, auto: true, differs: 'TAP 14 is a published version; prove 3.44 knows versions up to 13' },
  { name: 'bom-before-plan', out: '\uFEFF1..1\nok 1\n', exit: 0, auto: true, differs: 'a byte order mark is the encoding\'s, not output; prove 3.44 reads it as part of the plan line' },
]

/** prove's verdict on one file: its exit code is 0 only when every file passed. */
async function proveSays(cwd: string, args: string[]): Promise<'PASS' | 'FAIL'> {
  try {
    await promisify(execFile)('prove', args, { cwd, timeout: 120_000 })
    return 'PASS'
  } catch (err) {
    // Not a verdict: prove missing, or killed at the timeout.
    const { code, killed } = err as { code?: unknown; killed?: boolean }
    if (typeof code !== 'number' || killed) throw err
    return 'FAIL'
  }
}

/** A test file that prints `out` (kept in data/, byte for byte) and exits with `exit`: a shell script, or a Perl `.t`. */
function writeTest(dir: string, file: string, out: string, exit = 0): void {
  const data = `data/${file.replace(/\//g, '-')}.out`
  write(dir, data, out)
  write(dir, file, file.endsWith('.t') ? `open my $f, '<:raw', '${data}' or die; binmode STDOUT; print while <$f>; exit ${exit};\n` : `cat ${data}\nexit ${exit}\n`)
}

const verdict = (t: TestResult): 'PASS' | 'FAIL' => (t.status === 'passed' ? 'PASS' : 'FAIL')

describe('when output is read as TAP', () => {
  it('each output, as a .sh (auto) and as a .t (strict), gets the verdict prove gives the same file, where auto mode reads it as TAP', async () => {
    const dir = tempDir()
    for (const c of CASES) {
      writeTest(dir, `auto/${c.name}.sh`, c.out, c.exit)
      writeTest(dir, `t/${c.name}.t`, c.out, c.exit)
    }
    const result = await run({ paths: ['auto', 't'], cwd: dir, out: join(dir, 'out'), history: false, pattern: '*.{sh,t}' })
    const byId = new Map(result.tests.map((t) => [t.id, t]))
    const proved = await Promise.all(CASES.map(async (c) => [await proveSays(dir, ['--exec', 'sh', `auto/${c.name}.sh`]), await proveSays(dir, [`t/${c.name}.t`])] as const))
    const rows: string[] = []
    CASES.forEach((c, i) => {
      const [proveAuto, proveStrict] = proved[i]!
      const auto = byId.get(`auto/${c.name}.sh`)!
      const strict = byId.get(`t/${c.name}.t`)!
      rows.push(`| ${c.name} | ${c.exit} | ${proveStrict} | ${verdict(strict)} | ${c.auto ? 'TAP' : 'not TAP'}: ${verdict(auto)} | ${(strict.subtests?.problems ?? []).join('; ')} |`)
      // Strict: always TAP, and prove's verdict, but for the differences on purpose.
      expect(strict.subtests, c.name).toBeDefined()
      expect(verdict(strict), `${c.name} (.t): prove says ${proveStrict}`).toBe(c.differs ? 'PASS' : proveStrict)
      if (c.differs) expect(proveStrict, c.name).toBe('FAIL')
      expect(proveAuto, `${c.name}: prove reads the .sh as it reads the .t`).toBe(proveStrict)
      // Auto: prove's verdict when it is TAP; otherwise not TAP at all, and the exit code decides.
      if (c.auto) {
        expect(auto.subtests, c.name).toBeDefined()
        expect(verdict(auto), `${c.name} (.sh)`).toBe(verdict(strict))
      } else {
        expect(auto.subtests, c.name).toBeUndefined()
        expect(verdict(auto), `${c.name} (.sh)`).toBe(c.exit === 0 ? 'PASS' : 'FAIL')
      }
    })
    console.log(['| output | exit | prove | claimrun .t (strict) | claimrun .sh (auto) | why the TAP fails |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n'))
  }, 180_000)

  it('counts, names and reasons follow prove: a skipped not ok fails, a point past the plan fails, a late plan counts every point before it, a silent .t has no plan', async () => {
    const dir = tempDir()
    const cases: Record<string, string> = {
      'late.sh': 'ok 1 - a\nnot ok 2 - b\nok 3 - c # SKIP later\n1..3\n',
      'skip.sh': '1..2\nok 1 - fine\nnot ok 2 - no database # SKIP no database\n',
      'skip-all.sh': '1..0 # SKIP no database\nnot ok 1 - ran anyway\n',
      'extra.sh': '1..1\nok 1 - planned\nok 2 - past the plan\n',
      'subtest.sh': '# Subtest: outer\n    ok 1 - inner fine\n    not ok 2 - inner bad\n    1..2\nnot ok 1 - outer\n1..1\n',
      'silent.t': '',
    }
    for (const [name, out] of Object.entries(cases)) writeTest(dir, `t/${name}`, out)
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), history: false, pattern: '*.{sh,t}' })
    const byId = Object.fromEntries(result.tests.map((t) => [t.id, t]))
    expect(byId['t/late.sh']).toMatchObject({ status: 'failed', exitCode: 0, subtests: { passed: 1, failed: 1, skipped: 1, planned: 3, failures: ['b'], problems: ['1 of 3 sub-tests failed'] } })
    expect(byId['t/skip.sh']).toMatchObject({ status: 'failed', subtests: { passed: 1, failed: 1, skipped: 0, failures: ['no database'], problems: ['1 of 2 sub-tests failed'] } })
    expect(byId['t/skip-all.sh']).toMatchObject({ status: 'failed', subtests: { failed: 1, planned: 0, skipAll: 'no database', failures: ['ran anyway'], problems: ['1 of 1 sub-test failed', 'planned 0 sub-tests but ran 1'] } })
    expect(byId['t/extra.sh']).toMatchObject({ status: 'failed', subtests: { passed: 1, failed: 1, failures: ['past the plan'], problems: ['1 of 2 sub-tests failed', 'planned 1 sub-test but ran 2'] } })
    expect(byId['t/subtest.sh']).toMatchObject({ status: 'failed', subtests: { passed: 0, failed: 1, planned: 1, failures: ['outer > inner bad'] } })
    expect(byId['t/silent.t']).toMatchObject({ status: 'failed', exitCode: 0, subtests: { passed: 0, failed: 0, problems: ['No plan found in TAP output'] } })
    expect(byId['t/silent.t']!.notes).toEqual(['exited 0, but its TAP failed it: No plan found in TAP output'])
  })

  it('real Test::More files (a subtest first, done_testing\'s late plan, skip_all, a TODO), as .t and through sh: prove\'s verdicts', async () => {
    const dir = tempDir()
    const files: Record<string, string> = {
      // Test::More exits with the number of failures; no_ending keeps the exit 0, so only the TAP can fail it.
      'subtest-first-fails': "use Test::More;\nTest::More->builder->no_ending(1);\nsubtest inner => sub { ok(1, 'a'); ok(0, 'b'); done_testing };\ndone_testing;\n",
      'subtest-first-passes': "use Test::More;\nsubtest inner => sub { ok(1, 'a'); done_testing };\nok(1, 'after');\ndone_testing;\n",
      'done-testing-not-ok': "use Test::More;\nTest::More->builder->no_ending(1);\nok(1, 'a');\nok(0, 'b');\ndone_testing;\n",
      'skip-all': "use Test::More skip_all => 'no database';\n",
      'todo': "use Test::More tests => 2;\nok(1, 'a');\nTODO: { local $TODO = 'later'; ok(0, 'b') }\n",
    }
    for (const [name, body] of Object.entries(files)) {
      write(dir, `perl/${name}.pl`, body)
      write(dir, `t/${name}.t`, body)
      write(dir, `auto/${name}.sh`, `exec perl perl/${name}.pl\n`)
    }
    const result = await run({ paths: ['auto', 't'], cwd: dir, out: join(dir, 'out'), history: false, pattern: '*.{sh,t}' })
    const byId = new Map(result.tests.map((t) => [t.id, t]))
    for (const name of Object.keys(files)) {
      const proved = await proveSays(dir, [`t/${name}.t`])
      expect(verdict(byId.get(`t/${name}.t`)!), `${name}.t: prove says ${proved}`).toBe(proved)
      expect(byId.get(`auto/${name}.sh`)!.subtests, name).toBeDefined()
      expect(verdict(byId.get(`auto/${name}.sh`)!), `${name}.sh: prove says ${proved}`).toBe(proved)
    }
    expect(byId.get('t/subtest-first-fails.t')).toMatchObject({ exitCode: 0, status: 'failed', subtests: { failed: 1, failures: ['inner > b'] } })
    expect(byId.get('auto/done-testing-not-ok.sh')).toMatchObject({ exitCode: 0, status: 'failed', subtests: { planned: 2, failed: 1, failures: ['b'] } })
  }, 120_000)

  it('--no-tap turns strict reading off too: a .t that prints no TAP passes on its exit code', async () => {
    const dir = tempDir()
    write(dir, 't/plain.t', 'print "hello\\n";\n')
    const on = await run({ paths: ['t'], cwd: dir, out: join(dir, 'on'), history: false, pattern: '*.{sh,t}' })
    expect(on.tests[0]).toMatchObject({ status: 'failed', exitCode: 0 })
    const off = await run({ paths: ['t'], cwd: dir, out: join(dir, 'off'), history: false, pattern: '*.{sh,t}', tap: false })
    expect(off.tests[0]!.status).toBe('passed')
    expect(off.tests[0]!.subtests).toBeUndefined()
  })
})
