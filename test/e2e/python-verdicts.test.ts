import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir, write } from '../support/helpers.js'
import { claimrunVerdicts, nativeVerdicts } from '../support/native.js'

// No outer virtual environment leaks into these projects (each test says which interpreter it means),
// and pytest loads no plugin the machine happens to have: the same environment for pytest and claimrun.
const ENV = { VIRTUAL_ENV: '', PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' }

/** A virtual environment in `<dir>/.venv` without pip (fast; no network), with or without the base interpreter's packages. */
function makeVenv(dir: string, systemSitePackages: boolean): string {
  const res = spawnSync('python3', ['-m', 'venv', '--without-pip', ...(systemSitePackages ? ['--system-site-packages'] : []), join(dir, '.venv')], { encoding: 'utf8' })
  expect(res.status, res.stderr).toBe(0)
  return join(dir, '.venv', 'bin', 'python')
}

const LIB = 'def double(x):\n    return 2 * x\n'

describe('Python verdicts agree with the project\'s own framework', () => {
  it('a pytest project: pytest-style and unittest files, a package imported from tests/, its virtual environment; file by file as python -m pytest', async () => {
    const dir = tempDir()
    write(dir, 'pyproject.toml', '[tool.pytest.ini_options]\npythonpath = ["."]\n')
    write(dir, 'mylib/__init__.py', LIB)
    const files: Record<string, string> = {
      'tests/test_calc.py': 'from mylib import double\n\ndef test_double():\n    assert double(2) == 4\n\ndef test_zero():\n    assert double(0) == 0\n',
      'tests/test_broken.py': 'def test_broken():\n    assert 1 == 2\n',
      'tests/test_unit_noguard.py': 'import unittest\nfrom mylib import double\n\nclass T(unittest.TestCase):\n    def test_wrong(self):\n        self.assertEqual(double(2), 5)\n',
      'tests/test_unit_pass.py': 'import unittest\n\nclass T(unittest.TestCase):\n    def test_ok(self):\n        self.assertTrue(True)\n',
      'tests/test_in_venv.py': 'import sys\n\ndef test_runs_in_the_project_venv():\n    assert sys.prefix.endswith(".venv"), sys.prefix\n',
      'tests/calc_test.py': 'from mylib import double\n\nclass TestCalc:\n    def test_four(self):\n        assert double(2) == 4\n',
      // A method named like a test in a class pytest does not collect: the file defines tests, and none run.
      'tests/test_none_collected.py': 'class Helper:\n    def test_like(self):\n        assert False\n',
    }
    for (const [name, body] of Object.entries(files)) write(dir, name, body)
    const python = makeVenv(dir, true)

    const native = nativeVerdicts(Object.keys(files), (id) => [python, '-m', 'pytest', '-q', id], dir, ENV)
    const ours = await claimrunVerdicts([], dir, ENV)

    expect(ours.verdicts).toEqual(native)
    expect(native).toEqual({
      'tests/test_calc.py': 'pass',
      'tests/test_broken.py': 'fail',
      'tests/test_unit_noguard.py': 'fail',
      'tests/test_unit_pass.py': 'pass',
      'tests/test_in_venv.py': 'pass',
      'tests/calc_test.py': 'pass',
      'tests/test_none_collected.py': 'fail',
    })
    expect(ours.code).toBe(1)
    // pytest's own words for a file that ran nothing end its output.
    expect(ours.tails['tests/test_none_collected.py']).toMatch(/no tests ran/)
  })

  it('a unittest project: python -m unittest per file, imports from the root, no pass for a file that ran no test', async () => {
    const dir = tempDir()
    write(dir, 'mylib/__init__.py', LIB)
    const files: Record<string, string> = {
      'tests/test_ok.py': 'import unittest\nfrom mylib import double\n\nclass T(unittest.TestCase):\n    def test_double(self):\n        self.assertEqual(double(3), 6)\n',
      'tests/test_fail.py': 'import unittest\n\nclass T(unittest.TestCase):\n    def test_bad(self):\n        self.assertEqual(1, 2)\n',
      'tests/test_guard.py': 'import unittest\n\nclass T(unittest.TestCase):\n    def test_ok(self):\n        pass\n\nif __name__ == "__main__":\n    unittest.main()\n',
      'tests/test_empty_case.py': 'import unittest\n\nclass T(unittest.TestCase):\n    pass\n',
      // Written for pytest, in a project whose interpreter has no pytest: unittest finds nothing to run.
      'tests/test_pytest_style.py': 'def test_x():\n    assert True\n',
    }
    for (const [name, body] of Object.entries(files)) write(dir, name, body)
    const python = makeVenv(dir, false)

    const native = nativeVerdicts(Object.keys(files), (id) => [python, '-m', 'unittest', id], dir, ENV)
    const ours = await claimrunVerdicts(['tests'], dir, ENV)

    expect(ours.verdicts).toEqual(native)
    expect(native).toEqual({
      'tests/test_ok.py': 'pass',
      'tests/test_fail.py': 'fail',
      'tests/test_guard.py': 'pass',
      'tests/test_empty_case.py': 'fail',
      'tests/test_pytest_style.py': 'fail',
    })
    expect(ours.tails['tests/test_empty_case.py']).toMatch(/^claimrun: no tests ran in tests\/test_empty_case\.py: python -m unittest found no test in it$/m)
    expect(ours.tails['tests/test_pytest_style.py']).toMatch(/^claimrun: no tests ran in tests\/test_pytest_style\.py: its tests are written for pytest, which .*\.venv\/bin\/python cannot import; install pytest/m)
    expect(ours.stdout).toMatch(/2 passed, 3 failed/)
  })

  it('a file that defines no tests runs as the script it is: its exit code is the verdict', async () => {
    const dir = tempDir()
    write(dir, 'tests/test_script_ok.py', 'import sys\nassert sum([1, 2]) == 3\nprint("checked")\n')
    write(dir, 'tests/test_script_fails.py', 'import sys\nsys.exit(3)\n')
    const ours = await claimrunVerdicts(['tests'], dir, ENV)
    expect(ours.verdicts).toEqual({ 'tests/test_script_ok.py': 'pass', 'tests/test_script_fails.py': 'fail' })
    expect(ours.tails['tests/test_script_ok.py']).toBe('checked\n')
  })

  it('the active virtual environment ($VIRTUAL_ENV) is the interpreter, before .venv in the project', async () => {
    const dir = tempDir()
    makeVenv(dir, false)
    const active = join(dir, 'envs', 'active')
    expect(spawnSync('python3', ['-m', 'venv', '--without-pip', active]).status).toBe(0)
    write(dir, 'tests/test_prefix.py', 'import sys\nprint(sys.prefix)\n')
    const ours = await claimrunVerdicts(['tests'], dir, { VIRTUAL_ENV: active })
    expect(ours.tails['tests/test_prefix.py']).toBe(`${active}\n`)
    const project = await claimrunVerdicts(['tests'], dir, ENV)
    expect(project.tails['tests/test_prefix.py']).toBe(`${join(dir, '.venv')}\n`)
  })
})
