import { emptyHistory, loadHistory } from './record/history.js'
import { resolveOptions, type InternalOptions } from './options/resolve.js'
import { prepareOut } from './record/out-dir.js'
import { planTests, type PlanEntry } from './plan/plan.js'
import { lastFailed, orderTests, shardTests } from './plan/schedule.js'
import { Execution } from './lanes/execution.js'
import { withRedis } from './store/load-redis.js'
import { ignoreClaimrunDir } from './record/self-ignore.js'
import type { RunOptions, RunResult } from './types.js'

/**
 * Runs a suite: discovers the tests, has N worker threads claim and run them, and resolves with
 * every test's outcome once all are accounted for. Bad options or paths reject with a
 * ClaimrunError before anything runs; test failures never reject.
 */
export async function run(options: RunOptions = {}): Promise<RunResult> {
  const opts = resolveOptions(options as RunOptions & InternalOptions)
  const plan = planTests(opts)
  const loaded = opts.history ? loadHistory(opts.history) : { history: emptyHistory() }
  const warnings = loaded.warning ? [...plan.warnings, loaded.warning] : plan.warnings
  // Shard the whole suite first, so every test lies in exactly one shard whatever else is chosen.
  let tests = opts.shard ? shardTests(plan.tests, loaded.history, opts.shard) : plan.tests
  if (opts.lastFailed) tests = lastFailed(tests, loaded.history)
  tests = orderTests(tests, loaded.history, opts.order, opts.seed)
  if (opts.first.length) {
    const first = new Set(opts.first)
    tests = [...tests.filter((t) => first.has(t.id)), ...tests.filter((t) => !first.has(t.id))]
  }
  prepareOut(opts.out)
  ignoreClaimrunDir(opts.cwd, [opts.out, opts.history])
  if (!opts.store) return new Execution(opts, tests, warnings, loaded.history, null).run()

  // A shared run: the first process publishes its order; every other one must have the same tests.
  const { url, runId, node, leaseMs, ttlS } = opts.store
  // Loaded only for a shared run: the Redis client alone would double claimrun's start-up.
  const [{ RedisStore }, { RemoteClaims }] = await withRedis(() => Promise.all([import('./store/redis-store.js'), import('./store/shared-claims.js')]))
  const store = await RedisStore.connect(url, runId, leaseMs, ttlS)
  try {
    const { plan } = await store.joinPlan(tests.map((t) => t.id))
    const byId = new Map(tests.map((t) => [t.id, t]))
    const ordered = plan.map((id) => byId.get(id) as PlanEntry)
    return await new Execution(opts, ordered, warnings, loaded.history, new RemoteClaims(store, node, ordered.length)).run()
  } finally {
    await store.close()
  }
}

