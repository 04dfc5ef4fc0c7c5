import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** The `claimrun` command as the package ships it (its `bin`). */
export const CLI = join(ROOT, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { claimrun: string } }).bin.claimrun)

/** Registers cleanup for the running test (a no-op outside one, e.g. in a beforeAll). */
export function afterTest(cleanup: () => void | Promise<void>): void {
  try {
    onTestFinished(cleanup)
  } catch {
    // not inside a test: the caller cleans up itself
  }
}

/** A fresh temp folder, removed when the test ends. */
export function tempDir(prefix = 'claimrun-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Writes a file (creating folders), optionally executable. Returns its absolute path. */
export function write(dir: string, name: string, body: string, mode?: number): string {
  const file = join(dir, name)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, body)
  if (mode !== undefined) chmodSync(file, mode)
  return file
}

/** A shell test that appends its id to a witness file, then exits with `code`. */
export const witnessTest = (witness: string, code = 0): string =>
  `printf '%s %s\\n' "$CLAIMRUN_TEST" "$CLAIMRUN_WORKER" >> '${witness}'\nexit ${code}\n`

export function readLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean)
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs the real CLI as a subprocess (stdin closed), with a hard timeout so a hang fails the test.
 * It runs in a fresh temp folder unless `cwd` says otherwise, so no test writes into the checkout.
 */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number; gid?: number; cli?: string } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [options.cli ?? CLI, ...args], {
      cwd: options.cwd ?? tempDir(),
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`claimrun ${args.join(' ')} did not finish in time\n${stdout}\n${stderr}`))
    }, options.timeoutMs ?? 60_000)
    afterTest(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ code, signal, stdout, stderr })
    })
  })
}

/** The CLI running in the background: its output so far, and its exit. Killed when the test ends. */
export interface RunningCli {
  child: ChildProcess
  stdout(): string
  stderr(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function startCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d) => (stdout += d))
  child.stderr?.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => child.on('close', (code, signal) => resolveExit({ code, signal })))
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/**
 * A copy of the built CLI that any user can read (hard links into a world-readable temp folder),
 * for a test that runs it as another user: the checkout itself may sit in a mode-700 home folder.
 * Returns the path of its cli entry.
 */
export function readableCli(): string {
  const dir = tempDir('claimrun-cli-')
  chmodSync(dir, 0o755)
  for (const part of ['dist', 'node_modules', 'assets', 'package.json']) {
    const r = spawnSync('cp', ['-al', join(ROOT, part), join(dir, part)])
    if (r.status !== 0) spawnSync('cp', ['-a', join(ROOT, part), join(dir, part)])
  }
  return join(dir, relative(ROOT, CLI))
}

export function readResults(out: string): { tests: Array<Record<string, unknown> & { id: string; status: string; worker: string | null; attempts: number }>; counts: Record<string, number>; workers: string[] } {
  return JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))
}

/** Whether a process is alive (a zombie, dead but not yet reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Polls until `check` is true (a file appears, a process is gone); fails the test after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export const pidsIn = (file: string): number[] => readLines(file).map(Number).filter((n) => n > 0)
