import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, sep } from 'node:path'
import { isExecutable, startsWithShebang } from './command.js'

/** What a Python test file holds, read from its text (nothing is imported). */
export interface PythonFile {
  /** It defines tests a framework collects: `def test…` functions or methods, or a TestCase class. */
  definesTests: boolean
  /** Its tests need pytest: bare `def test…` functions, `class Test…` without TestCase, or `import pytest`. */
  pytestStyle: boolean
}

export function readPythonFile(file: string): PythonFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return { definesTests: false, pytestStyle: false }
  }
  const testCase = /^[ \t]*class[ \t]+\w+[ \t]*\([^)]*TestCase/m.test(text)
  const pytestStyle = /^(?:async[ \t]+)?def[ \t]+test\w*[ \t]*\(/m.test(text) ||
    /^class[ \t]+Test\w*[ \t]*(?:\(\s*(?:object)?\s*\))?[ \t]*:/m.test(text) ||
    /^[ \t]*(?:import[ \t]+pytest\b|from[ \t]+pytest\b|from[ \t]+_pytest\b)/m.test(text)
  return { definesTests: testCase || pytestStyle || /^[ \t]+(?:async[ \t]+)?def[ \t]+test\w*[ \t]*\(/m.test(text), pytestStyle }
}

/**
 * The interpreter of the project's virtual environment: the active one ($VIRTUAL_ENV), else
 * `.venv` or `venv` in the project's root; python3 from the PATH when there is none.
 */
export function projectPython(root: string, env: Record<string, string | undefined>): string {
  const candidates = [env.VIRTUAL_ENV ? join(env.VIRTUAL_ENV, 'bin', 'python') : null, join(root, '.venv', 'bin', 'python'), join(root, 'venv', 'bin', 'python')]
  return candidates.find((c): c is string => c !== null && existsSync(c)) ?? 'python3'
}

const fileHas = (file: string, pattern: RegExp): boolean => {
  try {
    return pattern.test(readFileSync(file, 'utf8'))
  } catch {
    return false
  }
}

/** The pytest configuration pytest itself looks for in a project's root, or a conftest.py beside the tests. */
export function usesPytestConfig(root: string, testFiles: string[]): boolean {
  if (existsSync(join(root, 'pytest.ini')) || existsSync(join(root, '.pytest.ini'))) return true
  if (fileHas(join(root, 'pyproject.toml'), /^\[tool\.pytest(?:\.ini_options)?\]/m)) return true
  if (fileHas(join(root, 'setup.cfg'), /^\[tool:pytest\]/m) || fileHas(join(root, 'tox.ini'), /^\[pytest\]/m)) return true
  // conftest.py in the root or any folder between it and a test file, as pytest collects them.
  const folders = new Set<string>()
  for (const file of testFiles) {
    for (let dir = dirname(file); !folders.has(dir); dir = dirname(dir)) {
      folders.add(dir)
      if (dir === root || !(dir + sep).startsWith(root + sep) || dirname(dir) === dir) break
    }
  }
  return [...folders, root].some((dir) => existsSync(join(dir, 'conftest.py')))
}

/** Whether the interpreter can import pytest, asked once (a `find_spec`, which loads nothing of pytest). */
function canImportPytest(python: string, cwd: string, env: NodeJS.ProcessEnv): boolean {
  const probe = spawnSync(python, ['-c', 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("pytest") else 3)'], { cwd, env, stdio: 'ignore', timeout: 30_000 })
  return probe.status === 0
}

/**
 * `python -m unittest <file>` that fails a file that ran no tests (Python before 3.12 passes it with
 * "Ran 0 tests ... OK"), with a one-line reason on stderr. The file's module name comes from its
 * path under the cwd, as `python -m unittest` makes it, and the cwd is on sys.path as under -m.
 */
const UNITTEST_MAIN = [
  'import sys, unittest',
  "r = unittest.main(module=None, argv=['python -m unittest', sys.argv[1]], exit=False).result",
  'if not r.testsRun:',
  "    print('claimrun: ' + sys.argv[2], file=sys.stderr)",
  '    sys.exit(5)',
  'sys.exit(0 if r.wasSuccessful() else 1)',
].join('\n')

export type PythonFramework = 'pytest' | 'unittest'

/** How a run's Python test files are run: decided once per run from the project, not per file. */
export interface PythonRunner {
  framework: PythonFramework
  python: string
  argv(file: string, id: string): string[]
}

/**
 * Picks the framework the project uses: pytest when its configuration says so (pytest.ini,
 * [tool.pytest.ini_options], [tool:pytest], [pytest] in tox.ini, a conftest.py), or when some test
 * is written for pytest and the project's interpreter can import it; else unittest. A file that
 * defines no tests runs as a script (by its own `#!` line when it is executable): it runs its own
 * checks, and its exit code is the verdict.
 */
export function pythonRunner(root: string, testFiles: string[], env: Record<string, string | undefined>): PythonRunner {
  const python = projectPython(root, env)
  const files = new Map(testFiles.map((f) => [f, readPythonFile(f)]))
  const pytestTests = [...files.values()].some((f) => f.pytestStyle)
  const framework: PythonFramework = usesPytestConfig(root, testFiles) || (pytestTests && canImportPytest(python, root, env as NodeJS.ProcessEnv)) ? 'pytest' : 'unittest'
  return {
    framework,
    python,
    argv(file: string, id: string): string[] {
      const kind = files.get(file) ?? readPythonFile(file)
      if (!kind.definesTests) return isExecutable(statSync(file).mode) && startsWithShebang(file) ? [file] : [python, file]
      if (framework === 'pytest') return [python, '-m', 'pytest', file]
      const why = kind.pytestStyle
        ? `no tests ran in ${id}: its tests are written for pytest, which ${python} cannot import; install pytest in the project's environment (or a virtual environment in .venv)`
        : `no tests ran in ${id}: python -m unittest found no test in it`
      return [python, '-c', UNITTEST_MAIN, file, why]
    },
  }
}
