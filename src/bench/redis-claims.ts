/**
 * The Redis claim store under concurrent clients: claims per second through claimrun's own Lua claim
 * script, and duplicates (0 expected). "Threads" are concurrent clients in this process, each with
 * its own connection, racing over one shared run of `slots` tests.
 */
import { randomBytes } from 'node:crypto'
import { ClaimrunError } from '../vocab/errors.js'
import { withRedis } from '../store/load-redis.js'
import { summarize, tally, type RaceResult } from './contention.js'
import type { BenchRow } from './strategies.js'

export async function benchRedis(o: { url: string; clients: readonly number[]; slots: number; reps: number; onRow?: (row: BenchRow) => void }): Promise<BenchRow[]> {
  // Loaded only when asked for: the Redis client alone would double the command's start-up.
  const { RedisStore } = await withRedis(() => import('../store/redis-store.js'))
  const ids = Array.from({ length: o.slots }, (_, i) => `t${i}`)
  const rows: BenchRow[] = []
  for (const n of o.clients) {
    const runs: RaceResult[] = []
    for (let r = 0; r < o.reps; r++) {
      // A fresh run id per repetition, kept for a minute: the bench leaves nothing behind for long.
      const runId = `claimrun-bench-${randomBytes(6).toString('hex')}`
      const stores = await Promise.all(Array.from({ length: n }, () => RedisStore.connect(o.url, runId, 600_000, 60)))
      try {
        await stores[0]?.joinPlan(ids)
        const won = Array.from({ length: n }, () => new Uint8Array(o.slots))
        const counts = new Array<number>(n).fill(0)
        const t0 = process.hrtime.bigint()
        await Promise.all(stores.map(async (store, k) => {
          for (;;) {
            const c = await store.claim(`bench/worker${k + 1}`)
            if (c.slot < 0) return
            ;(won[k] as Uint8Array)[c.slot] = 1
            counts[k] = (counts[k] as number) + 1
          }
        }))
        const ns = Number(process.hrtime.bigint() - t0)
        runs.push({ ns, claims: counts.reduce((a, b) => a + b, 0), counts, ...tally(o.slots, won) })
      } catch (err) {
        if (err instanceof ClaimrunError) throw err
        throw new ClaimrunError('CLAIMRUN_STORE', `bench: the store at ${o.url} failed: ${(err as Error)?.message ?? err}`, { cause: err })
      } finally {
        await Promise.all(stores.map((s) => s.close()))
      }
    }
    const row = summarize('redis', n, o.slots, runs)
    rows.push(row)
    o.onRow?.(row)
  }
  return rows
}
