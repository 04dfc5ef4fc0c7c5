import { join } from 'node:path'
import type { ResolvedOptions } from '../options/resolve.js'
import type { PlanEntry } from '../vocab/protocol.js'
import { Recorder } from '../record/recorder.js'
import { buildRunResult } from '../record/run-result.js'
import { displayPath } from '../reporters/format.js'
import { writeAtomic } from '../record/out-dir.js'
import { failOutputs, writeRunFiles } from '../reporters/run-files.js'
import { now } from '../util/time.js'
import type { RunResult } from '../vocab/types.js'
import { laneName } from '../vocab/names.js'
import { exitCodeOf } from '../record/outcome.js'
import type { Watchdog } from '../watchdog/watchdog.js'
import { forkPathOfRun } from '../options/fork-path.js'
import type { WatchdogMessage } from '../watchdog/watchdog-wire.js'
import { runHook, setupFailed } from './setup-teardown.js'
import { hookEnding, showCommand, type HookResult } from '../vocab/hook-result.js'

/**
 * `--setup` once before the first test and `--teardown` once after the last, around `execute`
 * (the run itself). The teardown runs whatever happened: tests passed or failed, an interrupt
 * (during the setup too), a failed setup. A failed setup runs no test: every test is recorded as
 * `notrun`, results.json is written, and the run rejects with CLAIMRUN_SETUP_FAILED (exit 2).
 */
export async function aroundRun(opts: ResolvedOptions, tests: PlanEntry[], warnings: string[], watchdog: Watchdog, execute: () => Promise<RunResult>): Promise<RunResult> {
  if (!opts.setup && !opts.teardown) return execute()
  const guard = { token: watchdog.link.token, tell: (message: WatchdogMessage) => watchdog.tell(message) }
  const hookOpts = { cwd: opts.cwd, out: opts.out, env: opts.env, killGraceMs: opts.killGraceMs, guard }
  // Guarded from their first instant like tests: the watchdog runs before the setup (or, for a
  // run whose lanes never started it, before the teardown).
  const startWatchdog = (): void => {
    // Its spawner's socket only when this run forks its tests through it (chosen once, as the lanes will).
    if (forkPathOfRun(opts.forkPath, tests.length) === 'spawner') watchdog.openSocket()
    watchdog.start(() => [])
  }
  let setup: HookResult | undefined
  let result: RunResult | undefined
  try {
    if (opts.setup) {
      startWatchdog()
      setup = await runHook('setup', opts.setup, hookOpts, opts.signal, opts.forceSignal)
      if (setup.status === 'failed' || setup.status === 'error') {
        result = notRunResult(opts, tests, warnings, setup)
        throw setupFailed(setup, displayPath(join(opts.out, setup.log), opts.cwd), result)
      }
    }
    // Interrupted during the setup: the signal is aborted, so the run ends every test as notrun.
    result = await execute()
    return result
  } finally {
    // Bounded by a stop signal like everything else (systemd's stop, a Kubernetes grace period): one
    // that came before it gives it the kill grace to finish, one that comes while it runs ends it
    // (SIGTERM, SIGKILL after the grace); a second one, at once.
    if (opts.teardown) startWatchdog()
    const teardown = opts.teardown ? await runHook('teardown', opts.teardown, hookOpts, opts.signal, opts.forceSignal) : undefined
    if (result) {
      stoppedDuringTeardown(result, opts.signal)
      record(result, opts, setup, teardown)
    }
  }
}

/** A stop signal that came after the tests (during the teardown) still makes the run an interrupted one: exit 130/143, never 0. */
function stoppedDuringTeardown(result: RunResult, signal: AbortSignal | undefined): void {
  if (!signal?.aborted || result.interrupted || result.exitCode === 2) return
  result.interrupted = typeof signal.reason === 'string' ? signal.reason : 'abort'
  result.exitCode = exitCodeOf(result.tests, result.interrupted)
}

/** Adds the hooks' outcomes to the result and to results.json (written before the teardown ran). */
function record(result: RunResult, opts: ResolvedOptions, setup: HookResult | undefined, teardown: HookResult | undefined): void {
  if (setup) result.setup = setup
  if (teardown) result.teardown = teardown
  if (teardown && teardown.status !== 'passed') {
    const message = `--teardown ${JSON.stringify(showCommand(teardown.command))} ${teardown.status} (${hookEnding(teardown)}); its output is in ${displayPath(join(opts.out, teardown.log), opts.cwd)}`
    result.warnings = [...(result.warnings ?? []), message]
    opts.onEvent?.({ type: 'run:warning', message })
  }
  const { out, ...file } = result
  try {
    writeAtomic(join(out, 'results.json'), JSON.stringify(file, null, 2) + '\n')
  } catch (err) {
    failOutputs(result, [`could not write results.json in ${out} after the teardown (${(err as NodeJS.ErrnoException).code ?? err})`])
  }
}

/** The result of a run whose setup failed: every test `notrun`, exit code 2. */
function notRunResult(opts: ResolvedOptions, tests: PlanEntry[], warnings: string[], setup: HookResult): RunResult {
  const t0 = now()
  const recorder = new Recorder(tests, laneName, t0)
  const why = `not run: the setup failed (${hookEnding(setup)})`
  const results = tests.map((_, slot) => recorder.settle(slot, 'notrun', why, t0))
  // Each outcome is an end like a run's (one test:end per test); a reporter that throws changes nothing.
  const internalErrors: string[] = []
  for (const test of results) {
    try {
      opts.onEvent?.({ type: 'test:end', test })
    } catch (err) {
      internalErrors.push(`onEvent threw on test:end: ${(err as Error)?.message ?? err}`)
    }
  }
  const result = buildRunResult({
    startedAt: new Date().toISOString(),
    durationMs: setup.durationMs,
    workers: [],
    tests: results,
    order: opts.order === 'random' ? { mode: 'random', seed: opts.seed } : { mode: opts.order },
    shard: opts.shard ? `${opts.shard.index}/${opts.shard.total}` : undefined,
    warnings,
    internalErrors,
    exitCode: 2,
    out: opts.out,
  })
  result.setup = setup
  writeRunFiles(result, { cwd: opts.cwd, html: opts.html, json: opts.json, junit: opts.junit })
  return result
}
