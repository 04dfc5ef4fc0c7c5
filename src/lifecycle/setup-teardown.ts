import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { ClaimrunError } from '../vocab/errors.js'
import { endGroup } from '../util/process-group.js'
import type { WatchdogMessage } from '../watchdog/watchdog-wire.js'
import type { RunResult } from '../vocab/types.js'
import { failedSetup, type HookResult } from '../vocab/hook-result.js'
import { spawnGroup } from '../util/spawn-group.js'

export interface HookOptions {
  cwd: string
  out: string
  env: Record<string, string>
  killGraceMs: number
  /** The run's watchdog: the hook carries its token and its group is told, so a runner's death ends it like a test. */
  guard?: { token: string; tell: (message: WatchdogMessage) => void }
}

/**
 * Runs one hook command to its end: argv only (never a shell), stdin at EOF, stdout and stderr into
 * `<out>/<kind>.log`, in its own process group. A process it leaves running (a database started
 * for the suite) is left alone: ending it is the teardown's job (unless the runner dies, when the
 * watchdog ends everything that carries the run's token). Aborting `stop` ends the hook's group
 * (SIGTERM, then SIGKILL after the grace; at once when `force` is aborted too). A `stop` aborted
 * before a teardown starts gives it the grace to finish first; past that it is ended the same way.
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
    const env = { ...process.env, ...opts.env, CLAIMRUN_OUT: opts.out, ...(opts.guard ? { CLAIMRUN_WATCHDOG: opts.guard.token } : {}) }
    const child = spawnGroup(argv, { cwd: opts.cwd, env, stdio: ['ignore', fd, fd] }, failed)
    if (!child) return await cannotStart
    const pgid = child.pid
    opts.guard?.tell({ t: 'start', pgid, id: `--${kind}` })
    let interrupted = false
    const end = (graceMs: number): void => {
      interrupted = true
      void endGroup(pgid, graceMs)
    }
    const onStop = (): void => end(opts.killGraceMs)
    const onForce = (): void => end(0)
    // A teardown after an interrupt is what the run needs: it gets the grace before it is ended.
    const late = stop?.aborted && kind === 'teardown' ? setTimeout(onStop, opts.killGraceMs) : undefined
    if (stop?.aborted && !late) onStop()
    stop?.addEventListener('abort', onStop)
    force?.addEventListener('abort', onForce)
    if (force?.aborted) onForce()
    try {
      return await new Promise<HookResult>((resolve) => {
        child.once('exit', (code, signal) => {
          resolve(done(interrupted ? 'interrupted' : code === 0 ? 'passed' : 'failed', code, signal))
        })
      })
    } finally {
      clearTimeout(late)
      stop?.removeEventListener('abort', onStop)
      force?.removeEventListener('abort', onForce)
      opts.guard?.tell({ t: 'end', pgid })
    }
  } finally {
    closeSync(fd)
  }
}

/** The one line a failed setup gives: nothing ran, and where to look; the run's result (every test notrun) as its cause. */
export function setupFailed(h: HookResult, logPath: string, result: RunResult): ClaimrunError {
  return new ClaimrunError(
    'CLAIMRUN_SETUP_FAILED',
    `${failedSetup(h)}, so no test was run (all notrun); its output is in ${logPath}`,
    { cause: result },
  )
}
