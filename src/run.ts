import { resolve } from 'node:path'
import { DEFAULTS } from './options/defaults.js'
import { resolveOptions, type InternalOptions, type ResolvedOptions } from './options/resolve.js'
import { workersWarning } from './options/workers.js'
import type { History } from './record/history.js'
import { aroundRun } from './lifecycle/around.js'
import { clearOut, holdOut, probeOutputs } from './record/out-folder.js'
import type { PlanEntry } from './vocab/protocol.js'
import { preparePlan } from './plan/prepare.js'
import type { RunNeeds } from './plan/needs.js'
import type { RunWideGroups } from './store/redis-store.js'
import { Execution } from './lifecycle/execution.js'
import { Watchdog } from './watchdog/watchdog.js'
import { LocalClaims } from './claim/local-claims.js'
import { withRedis } from './store/load-redis.js'
import { ignoreClaimrunDir } from './record/self-ignore.js'
import type { RunOptions, RunResult } from './vocab/types.js'
import { trace } from './util/trace.js'

/**
 * Runs a suite: discovers the tests, has N worker threads claim and run them, and resolves with
 * every test's outcome once all are accounted for. Bad options or paths reject with a
 * ClaimrunError before anything runs; test failures never reject.
 */
export async function run(options: RunOptions = {}): Promise<RunResult> {
  trace('run: start')
  const opts = resolveOptions(options as RunOptions & InternalOptions)
  trace('run: options resolved')
  // First: from here on the folder says a run is in progress (its lock), and no other run takes it.
  const lease = await holdOut(opts.out, opts.signal)
  try {
    const prepared = preparePlan(opts)
    const { tests, history } = prepared
    trace('run: planned')
    const warnings = [...prepared.warnings]
    const crowded = workersWarning(Math.min(opts.workers, tests.length))
    if (crowded) warnings.push(crowded)
    // Every file the run will write is checked before the out folder is cleared or a test runs.
    probeOutputs([['--json', opts.json], ['--junit', opts.junit], ['--html', opts.html]])
    const checked = withWritableHistory(opts, warnings)
    clearOut(checked.out, lease)
    trace('run: out folder prepared')
    ignoreClaimrunDir(checked.cwd, [checked.out, checked.history])
    // One watchdog guards everything the run starts, the setup and teardown included; the lock
    // names it, so a killed run's folder stays held until its watchdog has ended what it ran.
    const watchdog = new Watchdog(checked.out, checked.killGraceMs, (pid) => lease.guardBy(pid, checked.killGraceMs))
    try {
      return await aroundRun(checked, tests, warnings, watchdog, () => execute(checked, tests, warnings, history, watchdog, prepared.needs))
    } finally {
      // On every path, a failure to start included: the watchdog is told the run is over, and its
      // socket's folder goes (one the watchdog never got to run with is removed here).
      watchdog.close()
    }
  } finally {
    lease.release()
  }
}

/**
 * A --history the user named must be writable (checked now: exit 2, nothing run). The default one
 * is a convenience: in a folder this user cannot write (a read-only checkout), the run goes on
 * without saving history and says so, rather than refusing to test.
 */
function withWritableHistory(opts: ResolvedOptions, warnings: string[]): ResolvedOptions {
  if (!opts.history) return opts
  try {
    probeOutputs([['--history', opts.history]])
    return opts
  } catch (err) {
    if (opts.history !== resolve(opts.cwd, DEFAULTS.history)) throw err
    warnings.push(`${(err as Error).message.replace(/; choose .*$/, '')}: this run saves no history (name a writable --history <file>, or --no-history)`)
    return { ...opts, history: null }
  }
}

async function execute(opts: ResolvedOptions, tests: PlanEntry[], warnings: string[], history: History, watchdog: Watchdog, needs: RunNeeds | null): Promise<RunResult> {
  if (!opts.store) return new Execution(opts, tests, warnings, history, new LocalClaims(), watchdog, needs).run()

  // A shared run: the first process publishes its order; every other one must have the same tests.
  const { url, runId, node, leaseMs, ttlS } = opts.store
  // Loaded only for a shared run: the Redis client alone would double claimrun's start-up.
  const [{ RedisStore }, { SharedClaims }] = await withRedis(() => Promise.all([import('./store/redis-store.js'), import('./store/shared-claims.js')]))
  const store = await RedisStore.connect(url, runId, leaseMs, ttlS)
  try {
    const { plan } = await store.joinPlan(tests.map((t) => t.id), runWideGroups(needs))
    const byId = new Map(tests.map((t, i) => [t.id, i]))
    const order = plan.map((id) => byId.get(id) as number)
    const ordered = order.map((i) => tests[i] as PlanEntry)
    // Each machine enforces every group on its own too; a run-wide one also through the store.
    const planned = needs && { ...needs, tests: order.map((i) => needs.tests[i] as RunNeeds['tests'][number]) }
    return await new Execution(opts, ordered, warnings, history, new SharedClaims(store, node, ordered.length), watchdog, planned).run()
  } finally {
    await store.close()
  }
}

/** The groups a shared run enforces through its store (scope "run"), per test in plan order. */
function runWideGroups(needs: RunNeeds | null): RunWideGroups {
  const wide = new Map((needs?.groups ?? []).filter((g) => g.scope === 'run').map((g) => [g.name, g.max]))
  return { max: Object.fromEntries(wide), tests: (needs?.tests ?? []).map((t) => t.groups.filter((g) => wide.has(g))) }
}
