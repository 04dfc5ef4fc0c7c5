import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { run } from 'claimrun'
import { tempDir, write } from '../support/helpers.js'

/** A CDATA body that the writer had to split (around `]]>`) comes back from the parser in pieces. */
const text = (cdata: string | string[]): string => ([] as string[]).concat(cdata).join('')

describe('JUnit XML', () => {
  it('one testsuite, a testcase per test with the right element per status, everything escaped', async () => {
    const dir = tempDir()
    write(dir, 't/test_1_pass.sh', 'echo fine\n')
    write(dir, 't/test_2_fail.sh', `printf 'bad <tag> & "quotes" ]]> end\\n'\nprintf 'ctrl \\001\\033[31m\\n'\nexit 3\n`)
    write(dir, 't/sub/test_3_timeout.sh', 'echo waiting\nsleep 30\n')
    write(dir, 't/test_4_flaky.sh', `if [ ! -e '${dir}/once' ]; then : > '${dir}/once'; echo "first <attempt>"; exit 1; fi\n`)
    write(dir, 't/test_5_error.check', '#!/no/such/interpreter\n', 0o755)
    const junit = join(dir, 'reports', 'junit.xml')
    await run({ paths: ['t'], pattern: 'test_*', cwd: dir, out: join(dir, 'out'), timeout: 1, killGrace: 0.2, retries: 1, junit, order: 'given', history: false })
    const xml = readFileSync(junit, 'utf8')
    expect(XMLValidator.validate(xml)).toBe(true)
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', cdataPropName: '#cdata', isArray: (name) => name === 'testcase' }).parse(xml)
    const suite = doc.testsuites.testsuite
    expect(suite.name).toBe('claimrun')
    expect(suite).toMatchObject({ tests: '5', failures: '2', errors: '1', skipped: '0' })
    const cases = Object.fromEntries(suite.testcase.map((c: { name: string }) => [c.name, c]))
    expect(cases['test_1_pass.sh']).toMatchObject({ classname: 't' })
    expect(cases['test_1_pass.sh'].failure).toBeUndefined()
    const fail = cases['test_2_fail.sh']
    expect(fail.failure.message).toBe('failed (exit 3)')
    expect(text(fail.failure['#cdata'])).toContain('bad <tag> & "quotes" ]]> end')
    expect(text(fail.failure['#cdata'])).toContain('ctrl \\x01\\x1b[31m')
    expect(cases['test_3_timeout.sh']).toMatchObject({ classname: 't/sub' })
    expect(cases['test_3_timeout.sh'].failure.type).toBe('timedout')
    expect(cases['test_3_timeout.sh'].failure.message).toMatch(/^timed out after \d+\.\d+ s$/)
    expect(Number(cases['test_3_timeout.sh'].time)).toBeGreaterThanOrEqual(1)
    expect(cases['test_4_flaky.sh'].failure).toBeUndefined()
    expect(cases['test_4_flaky.sh'].flakyFailure.message).toBe('failed (exit 1)')
    expect(text(cases['test_4_flaky.sh'].flakyFailure.stackTrace['#cdata'])).toContain('first <attempt>')
    expect(cases['test_5_error.check'].error.message).toMatch(/not found \(ENOENT\)/)
  })

  it('not-run tests are skipped', async () => {
    const dir = tempDir()
    write(dir, 't/test_1.sh', 'exit 1\n')
    write(dir, 't/test_2.sh', 'exit 0\n')
    const junit = join(dir, 'junit.xml')
    await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), workers: 1, bail: 1, junit, order: 'given', history: false })
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' }).parse(readFileSync(junit, 'utf8'))
    expect(doc.testsuites.testsuite).toMatchObject({ tests: '2', failures: '1', skipped: '1' })
    expect(doc.testsuites.testsuite.testcase[1].skipped.message).toBe('not run')
  })

  it('a failed --setup is an error for every test it kept from running (errors counted, none skipped), as the exit code 2 says', async () => {
    const dir = tempDir()
    for (const n of [1, 2, 3]) write(dir, `t/test_${n}.sh`, 'exit 0\n')
    const junit = join(dir, 'junit.xml')
    const failed = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), junit, order: 'given', history: false, setup: 'sh -c "echo no database; exit 4"' }).catch((e: unknown) => e)
    expect(failed).toMatchObject({ code: 'CLAIMRUN_SETUP_FAILED' })
    const xml = readFileSync(junit, 'utf8')
    expect(XMLValidator.validate(xml)).toBe(true)
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', cdataPropName: '#cdata', isArray: (name) => name === 'testcase' }).parse(xml)
    expect(doc.testsuites).toMatchObject({ tests: '3', failures: '0', errors: '3', skipped: '0' })
    const suite = doc.testsuites.testsuite
    expect(suite).toMatchObject({ tests: '3', failures: '0', errors: '3', skipped: '0' })
    for (const c of suite.testcase) {
      expect(c.skipped).toBeUndefined()
      expect(c.error).toMatchObject({ type: 'setup', message: 'not run: the setup failed (exit 4)' })
      expect(text(c.error['#cdata'])).toBe(`--setup "sh -c 'echo no database; exit 4'" failed (exit 4), so this test was not run; its output is in setup.log in the out folder`)
    }
  })
})
