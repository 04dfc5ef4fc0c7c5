import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { readResults, runCli } from './helpers.js'

export type Verdict = 'pass' | 'fail'

/**
 * An ecosystem's own runner on one file: its verdict (exit 0 is a pass, except that a unittest run
 * that ran no test is a failure, as `python -m unittest` says from Python 3.12 on) and its output.
 */
export function nativeVerdict(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { verdict: Verdict; output: string } {
  const res = spawnSync(argv[0] as string, argv.slice(1), { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 })
  const output = `${res.stdout}\n${res.stderr}`
  const ranNone = /^Ran 0 tests /m.test(output) || /NO TESTS RAN/.test(output)
  return { verdict: res.status === 0 && !ranNone ? 'pass' : 'fail', output }
}

/** The native verdict of each file, by id: `argvOf(id)` is the command its own runner takes for it. */
export function nativeVerdicts(ids: Iterable<string>, argvOf: (id: string) => string[], cwd: string, env: NodeJS.ProcessEnv = {}): Record<string, Verdict> {
  return Object.fromEntries([...ids].map((id) => [id, nativeVerdict(argvOf(id), cwd, env).verdict]))
}

/** `claimrun run` (the real CLI) in `cwd`: each test's verdict by id, the exit code and what it printed. */
export async function claimrunVerdicts(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ verdicts: Record<string, Verdict>; code: number | null; stdout: string; stderr: string; tails: Record<string, string> }> {
  const out = join(cwd, '.claimrun-out')
  const r = await runCli(['run', ...args, '--no-history', '--no-progress', '--out', out], { cwd, env, timeoutMs: 240_000 })
  const tests = readResults(out).tests.map((t) => ({ id: t.id, status: t.status, tail: String(t.tail) }))
  return {
    verdicts: Object.fromEntries(tests.map((t) => [t.id, t.status === 'passed' ? 'pass' : 'fail'])),
    tails: Object.fromEntries(tests.map((t) => [t.id, t.tail])),
    code: r.code,
    stdout: r.stdout,
    stderr: r.stderr,
  }
}
