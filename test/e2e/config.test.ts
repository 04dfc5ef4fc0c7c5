import { existsSync, mkdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readLines, readResults, runCli, tempDir, write } from '../support/helpers.js'

/** A repository (`.git`) with tests a1, a2, b1 that journal "<id> <worker> FOO=<$FOO>", and a sub folder. */
function repo(): { root: string; journal: string } {
  const root = join(tempDir(), 'repo')
  mkdirSync(join(root, '.git'), { recursive: true })
  mkdirSync(join(root, 'packages/sub'), { recursive: true })
  const journal = join(root, 'journal')
  for (const name of ['test_a1.sh', 'test_a2.sh', 'test_b1.sh']) write(root, `t/${name}`, `echo "$CLAIMRUN_TEST $CLAIMRUN_WORKER FOO=$FOO" >> '${journal}'\n`)
  return { root, journal }
}

const ids = (journal: string): string[] => readLines(journal).map((l) => l.split(' ')[0] as string).sort()

describe('config file', () => {
  it('claimrun.config.json is found from a sub folder upward; its paths are relative to it; every key applies', async () => {
    const { root, journal } = repo()
    write(root, 'claimrun.config.json', JSON.stringify({ paths: ['t'], workers: 1, grep: 'a', env: { FOO: 'from-config' }, out: 'runs/last', history: false }))
    const r = await runCli(['run', '--no-progress'], { cwd: join(root, 'packages/sub') })
    expect(r.code, r.stderr).toBe(0)
    expect(readLines(journal).sort()).toEqual(['../../t/test_a1.sh worker01 FOO=from-config', '../../t/test_a2.sh worker01 FOO=from-config'])
    expect(readResults(join(root, 'runs/last')).workers).toEqual(['worker01'])
  })

  it('command-line flags override the file, key by key', async () => {
    const { root, journal } = repo()
    write(root, 'claimrun.config.json', JSON.stringify({ paths: ['t'], workers: 1, grep: ['a1', 'a2'], env: { FOO: 'file' }, history: false }))
    const r = await runCli(['run', '--grep', 'b', '--env', 'FOO=flag', '--out', 'o', '--no-progress'], { cwd: root })
    expect(r.code, r.stderr).toBe(0)
    expect(readLines(journal)).toEqual(['t/test_b1.sh worker01 FOO=flag'])
    const paths = await runCli(['run', 't/test_a1.sh', '-w', '2', '--out', 'o2'], { cwd: root })
    expect(paths.code, paths.stderr).toBe(0)
    expect(ids(journal)).toEqual(['t/test_a1.sh', 't/test_b1.sh'])
  })

  it('a "claimrun" key in package.json, an ES module and a CommonJS .js file are read too', async () => {
    for (const [name, body] of [
      ['package.json', JSON.stringify({ name: 'app', claimrun: { paths: ['t'], grep: 'b1', history: false } })],
      ['claimrun.config.mjs', "export default { paths: ['t'], grep: 'b1', history: false }\n"],
      ['claimrun.config.js', "module.exports = { paths: ['t'], grep: 'b1', history: false }\n"],
    ] as const) {
      const { root, journal } = repo()
      write(root, name, body)
      const r = await runCli(['run', '--out', 'o'], { cwd: root })
      expect(r.code, `${name}: ${r.stderr}`).toBe(0)
      expect(ids(journal)).toEqual(['t/test_b1.sh'])
    }
  })

  it('the search stops at the repository root (.git); --config names a file; --no-config reads none', async () => {
    const { root, journal } = repo()
    // Above the repository: never read (it would fail the run).
    write(join(root, '..'), 'claimrun.config.json', JSON.stringify({ workers: 0 }))
    const r = await runCli(['run', 't', '--out', 'o', '--no-history'], { cwd: root })
    expect(r.code, r.stderr).toBe(0)
    write(root, 'ci/claimrun.json', JSON.stringify({ paths: ['../t'], grep: 'a2', history: false }))
    const named = await runCli(['run', '--config', 'ci/claimrun.json', '--out', 'o'], { cwd: root })
    expect(named.code, named.stderr).toBe(0)
    expect(readLines(journal).filter((l) => l.startsWith('t/test_a2.sh'))).toHaveLength(2)
    write(root, 'claimrun.config.json', '{ broken')
    const none = await runCli(['run', 't', '--no-config', '--out', 'o', '--no-history'], { cwd: root })
    expect(none.code, none.stderr).toBe(0)
  })

  it('durations and auto as on the command line: "timeout": "300ms", "killGrace": "100ms", "workers": "auto"', async () => {
    const { root } = repo()
    write(root, 'slow/test_hang.sh', 'sleep 30\n')
    write(root, 'slow/test_ok.sh', 'exit 0\n')
    write(root, 'claimrun.config.json', JSON.stringify({ paths: ['slow'], timeout: '300ms', killGrace: '100ms', workers: 'auto', history: false }))
    const r = await runCli(['run', '--out', 'o', '--no-progress'], { cwd: root })
    expect(r.code, r.stderr).toBe(1)
    const results = readResults(join(root, 'o'))
    expect(results.tests.map((t) => `${t.id} ${t.status}`).sort()).toEqual(['slow/test_hang.sh timedout', 'slow/test_ok.sh passed'])
    // auto: the CPUs available, never more lanes than tests.
    expect(results.workers).toHaveLength(Math.min(2, availableParallelism()))
    write(root, 'claimrun.config.json', JSON.stringify({ timeout: '30 parsecs' }))
    const bad = await runCli(['run', 'slow', '--out', 'o'], { cwd: root })
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim()).toMatch(/^claimrun: claimrun\.config\.json, key "timeout": --timeout must be a duration such as 30 \(seconds\), 30s, 500ms or 2m \(received "30 parsecs"\)/)
  })

  it('--list shows the plan the config file gives', async () => {
    const { root } = repo()
    write(root, 'claimrun.config.json', JSON.stringify({ paths: ['t'], exclude: ['test_a*'], order: 'given', history: false }))
    const r = await runCli(['run', '--list', '--json'], { cwd: root })
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as { tests: Array<{ id: string; reason: string }> }).tests).toEqual([expect.objectContaining({ id: 't/test_b1.sh', reason: 'given' })])
  })

  const bad: Array<[string, string, string, RegExp]> = [
    ['a value the flag refuses', 'claimrun.config.json', JSON.stringify({ workers: 0 }), /^claimrun: claimrun\.config\.json, key "workers": --workers must be a whole number from 1 to 1024, or auto \(\d+ here: the CPUs available\) \(received 0\) \(see claimrun run --help\)$/],
    ['a choice the flag refuses', 'claimrun.config.json', JSON.stringify({ order: 'fast' }), /^claimrun: claimrun\.config\.json, key "order": --order must be one of smart, given, random \(received "fast"\)/],
    ['a command the flag refuses', 'claimrun.config.json', JSON.stringify({ cmd: 'sh "{file}' }), /^claimrun: claimrun\.config\.json, key "cmd": --cmd has an unclosed " quote/],
    ['an unknown key', 'claimrun.config.json', JSON.stringify({ wrokers: 2 }), /^claimrun: claimrun\.config\.json: unknown key "wrokers" \(did you mean "workers"\?\)/],
    ['a switch that is not true/false', 'claimrun.config.json', JSON.stringify({ lastFailed: 'yes' }), /^claimrun: claimrun\.config\.json, key "lastFailed": must be true or false, as the switch --last-failed is \(received "yes"\)/],
    ['env that is not strings', 'claimrun.config.json', JSON.stringify({ env: { A: 1 } }), /^claimrun: claimrun\.config\.json, key "env": must be an object of strings/],
    ['grep that is not text', 'claimrun.config.json', JSON.stringify({ grep: [5] }), /^claimrun: claimrun\.config\.json, key "grep": must be a string or a list of strings/],
    ['paths that are not a list', 'claimrun.config.json', JSON.stringify({ paths: 5 }), /^claimrun: claimrun\.config\.json, key "paths": must be a list of test files and folders/],
    ['broken JSON', 'claimrun.config.json', '{ "workers": ', /^claimrun: claimrun\.config\.json: not valid JSON \(.*\); fix it, or pass --no-config/],
    ['not an object', 'claimrun.config.json', '[1]', /^claimrun: claimrun\.config\.json: must hold an object of run options/],
    ['a module that throws', 'claimrun.config.mjs', "throw new Error('boom')\n", /^claimrun: claimrun\.config\.mjs: could not be loaded \(boom\); fix it, or pass --no-config/],
    ['package.json with a bad key', 'package.json', JSON.stringify({ claimrun: { retries: -1 } }), /^claimrun: package\.json \("claimrun" key\), key "retries": --retries must be a whole number from 0 to 100 \(received -1\)/],
  ]
  for (const [what, name, body, message] of bad) {
    it(`${what}: one line naming the file and the key, exit 2, nothing run`, async () => {
      const { root, journal } = repo()
      write(root, name, body)
      const r = await runCli(['run', 't', '--out', 'o'], { cwd: root })
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr.trim()).toMatch(message)
      expect(existsSync(journal)).toBe(false)
    })
  }

  it('two configs in one folder: an error naming both', async () => {
    const { root } = repo()
    write(root, 'claimrun.config.json', '{}')
    write(root, 'claimrun.config.mjs', 'export default {}\n')
    const r = await runCli(['run', 't'], { cwd: root })
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toMatch(/^claimrun: two claimrun configs in \.: claimrun\.config\.json and claimrun\.config\.mjs; keep one/)
  })
})
