import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ClaimrunError } from '../errors.js'
import { endGroup } from '../util/process-group.js'
import { spawnGroup } from '../util/spawn-group.js'

/** How a `--setup` or `--teardown` command ended (in the result as `setup` / `teardown`). */
export interface HookResult {
  command: string[]
  status: 'passed' | 'failed' | 'error' | 'interrupted'
  exitCode: number | null
  signal: string | null
  /** Could not start: not found, permission denied. */
  error?: string
  durationMs: number
  /** Its output, relative to the out folder. */
  log: 'setup.log' | 'teardown.log'
}

export interface HookOptions {
  cwd: string
  out: string
  env: Record<string, string>
  killGraceMs: number
}

/**
 * Runs one hook command to its end: argv only (never a shell), stdin at EOF, stdout and stderr into
 * `<out>/<kind>.log`, in its own process group. A process it leaves running (a database started
 * for the suite) is left alone: ending it is the teardown's job. Aborting `stop` ends the hook's
 * group (SIGTERM, then SIGKILL after the grace; at once when `force` is aborted too).
 */
export async function runHook(kind: 'setup' | 'teardown', argv: string[], opts: HookOptions, stop?: AbortSignal, force?: AbortSignal): Promise<HookResult> {
  const log = `${kind}.log` as const
  const fd = openSync(join(opts.out, log), 'w')
  writeSync(fd, `claimrun ${kind}: ${JSON.stringify(argv)}\n`)
  const started = performance.now()
  const done = (status: HookResult['status'], exitCode: number | null, signal: string | null, error?: string): HookResult => ({
    command: argv,
    status,
    exitCode,
    signal,
    ...(error ? { error } : {}),
    durationMs: Math.round(performance.now() - started),
    log,
  })
  try {
    let failed = (_: string): void => {}
    const cannotStart = new Promise<HookResult>((resolve) => (failed = (error) => resolve(done('error', null, null, error))))
    const env = { ...process.env, ...opts.env, CLAIMRUN_OUT: opts.out }
    const child = spawnGroup(argv, { cwd: opts.cwd, env, stdio: ['ignore', fd, fd] }, failed)
    if (!child) return await cannotStart
    let interrupted = false
    const end = (graceMs: number): void => {
      interrupted = true
      void endGroup(child.pid, graceMs)
    }
    const onStop = (): void => end(opts.killGraceMs)
    const onForce = (): void => end(0)
    if (stop?.aborted) onStop()
    stop?.addEventListener('abort', onStop)
    force?.addEventListener('abort', onForce)
    try {
      return await new Promise<HookResult>((resolve) => {
        child.once('exit', (code, signal) => {
          resolve(done(interrupted ? 'interrupted' : code === 0 ? 'passed' : 'failed', code, signal))
        })
      })
    } finally {
      stop?.removeEventListener('abort', onStop)
      force?.removeEventListener('abort', onForce)
    }
  } finally {
    closeSync(fd)
  }
}

/** A command as one would type it again: tokens quoted only where a shell would need it. */
export const showCommand = (argv: string[]): string =>
  argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')

/** How a hook ended, in a few words: "exit 1", "killed by SIGTERM", "not found (ENOENT)". */
export const hookEnding = (h: HookResult): string =>
  h.error ?? (h.signal ? `killed by ${h.signal}` : `exit ${h.exitCode}`)

/** The one line a failed setup gives: nothing ran, and where to look. */
export function setupFailed(h: HookResult, logPath: string): ClaimrunError {
  return new ClaimrunError(
    'CLAIMRUN_SETUP_FAILED',
    `--setup ${JSON.stringify(showCommand(h.command))} failed (${hookEnding(h)}), so no test was run (all notrun); its output is in ${logPath}`,
  )
}
