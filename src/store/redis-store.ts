import { Redis } from 'ioredis'
import { DEFAULTS } from '../options/defaults.js'
import { ClaimrunError } from '../errors.js'

/**
 * The claim store for runs that span machines: the same promise as the in-process board (every test
 * exactly once, nothing lost) kept by a Redis server. Every operation is one Lua script, so each is
 * atomic on the server and costs one round trip: never check-then-write.
 *
 * A claim is a lease with a fencing token. The holder renews it while the test runs; a lease that
 * lapses (the machine died, the network went) is put back by the next claim on any machine and
 * counted as a further attempt; a result is accepted only with the token of the current holder,
 * so a late result from a lapsed holder is rejected and each test gets exactly one outcome.
 *
 * Keys (all under `claimrun:{<run id>}:`, one hash slot, and all expiring after the TTL):
 *   plan      JSON array of test ids, in claim order (written once, by the first process)
 *   free      ZSET index → score index: claimable, in plan order
 *   leases    ZSET index → score expiry (server time, ms)
 *   holder    HASH index → "<token> <worker>"
 *   attempts  HASH index → claims so far
 *   tokens    counter for fencing tokens
 *   results   HASH index → JSON outcome
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

const INIT = `local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[1])
local n = tonumber(ARGV[3])
for i = 0, n - 1, 500 do
  local args = {}
  for j = i, math.min(i + 499, n - 1) do
    args[#args + 1] = j
    args[#args + 1] = j
  end
  redis.call('ZADD', KEYS[2], unpack(args))
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
return ARGV[2]`

// KEYS: free leases holder attempts tokens results; ARGV: leaseMs worker ttl
const CLAIM = `${NOW}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, i in ipairs(expired) do
  redis.call('ZREM', KEYS[2], i)
  redis.call('HDEL', KEYS[3], i)
  if redis.call('HEXISTS', KEYS[6], i) == 0 then redis.call('ZADD', KEYS[1], tonumber(i), i) end
end
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then
  return {-1, redis.call('HLEN', KEYS[6]), redis.call('ZCARD', KEYS[2])}
end
local i = popped[1]
local token = redis.call('INCR', KEYS[5])
local attempt = redis.call('HINCRBY', KEYS[4], i, 1)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), i)
redis.call('HSET', KEYS[3], i, token .. ' ' .. ARGV[2])
for k = 2, 5 do redis.call('EXPIRE', KEYS[k], ARGV[3]) end
return {tonumber(i), token, attempt}`

// KEYS: leases holder; ARGV: leaseMs, then slot token pairs
const RENEW = `${NOW}
local out = {}
for k = 2, #ARGV, 2 do
  local h = redis.call('HGET', KEYS[2], ARGV[k])
  if h and string.match(h, '^(%d+)') == ARGV[k + 1] then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[k])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out`

// KEYS: leases holder results; ARGV: slot token json ttl
const FINISH = `local h = redis.call('HGET', KEYS[2], ARGV[1])
if not h or string.match(h, '^(%d+)') ~= ARGV[2] then return 0 end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[4])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1`

// KEYS: free leases holder; ARGV: slot token
const RELEASE = `local h = redis.call('HGET', KEYS[3], ARGV[1])
if not h or string.match(h, '^(%d+)') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]), ARGV[1])
return 1`

export interface RemoteClaim {
  slot: number
  token: number
  attempt: number
}

export type ClaimAnswer = RemoteClaim | { slot: -1; finished: number; leased: number }

interface Scripts {
  crInit(plan: string, free: string, ttl: number, json: string, n: number): Promise<string>
  crClaim(...args: (string | number)[]): Promise<[number, number, number]>
  crRenew(leases: string, holder: string, ...args: (string | number)[]): Promise<number[]>
  crFinish(leases: string, holder: string, results: string, slot: number, token: number, json: string, ttl: number): Promise<number>
  crRelease(free: string, leases: string, holder: string, slot: number, token: number): Promise<number>
}


/** Reads `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS); anything else is a usage error. */
function checkUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--store must be a URL such as redis://127.0.0.1:6379/0 (received ${JSON.stringify(url)})`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--store must start with redis:// or rediss:// (received ${JSON.stringify(url)})`)
  }
}

export class RedisStore {
  private constructor(
    private readonly redis: Redis & Scripts,
    readonly runId: string,
    readonly leaseMs: number,
    readonly ttlS: number,
  ) {}

  /** Connects, or fails with one line (CLAIMRUN_STORE) within a few seconds; never hangs. */
  static async connect(url: string, runId: string, leaseMs = DEFAULTS.leaseS * 1000, ttlS = DEFAULTS.ttlS): Promise<RedisStore> {
    checkUrl(url)
    let connected = false
    let lastError: Error | undefined
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 3000,
      maxRetriesPerRequest: 3,
      // No retries for the first connect (a wrong address fails at once); through short outages
      // during a run, reconnect for up to about 20 s.
      retryStrategy: (times) => (!connected || times > 20 ? null : Math.min(times * 100, 1000)),
    }) as Redis & Scripts
    redis.on('error', (err: Error) => {
      lastError = err // surfaced through the failing command instead
    })
    try {
      await redis.connect()
      await redis.ping()
      connected = true
    } catch (err) {
      redis.disconnect()
      const cause = lastError ?? (err as Error)
      const what = (cause as NodeJS.ErrnoException).code ?? cause.message
      throw new ClaimrunError('CLAIMRUN_STORE', `cannot reach the store at ${redacted(url)} (${what}); check --store, or start the server`, { cause })
    }
    redis.defineCommand('crInit', { numberOfKeys: 2, lua: INIT })
    redis.defineCommand('crClaim', { numberOfKeys: 6, lua: CLAIM })
    redis.defineCommand('crRenew', { numberOfKeys: 2, lua: RENEW })
    redis.defineCommand('crFinish', { numberOfKeys: 3, lua: FINISH })
    redis.defineCommand('crRelease', { numberOfKeys: 3, lua: RELEASE })
    return new RedisStore(redis, runId, leaseMs, ttlS)
  }

  key(name: string): string {
    return `claimrun:{${this.runId}}:${name}`
  }

  /**
   * Publishes `ids` as the run's plan if this process is the first; otherwise checks that the plan
   * already there holds exactly the same tests, and returns it (its order wins).
   */
  async joinPlan(ids: string[]): Promise<{ plan: string[]; first: boolean }> {
    const json = JSON.stringify(ids)
    const stored = await this.redis.crInit(this.key('plan'), this.key('free'), this.ttlS, json, ids.length)
    const plan = JSON.parse(stored) as string[]
    if (stored === json) return { plan, first: true }
    const mine = new Set(ids)
    const missing = plan.filter((id) => !mine.has(id))
    const extra = ids.filter((id) => !plan.includes(id))
    if (missing.length || extra.length || plan.length !== ids.length) {
      const detail = [missing.length ? `${missing.length} not found here (e.g. ${missing[0]})` : '', extra.length ? `${extra.length} not in the run (e.g. ${extra[0]})` : '']
        .filter(Boolean).join(', ')
      throw new ClaimrunError('CLAIMRUN_PLAN_MISMATCH', `run ${this.runId} already has a different test list: ${detail}; run the same paths on every machine, or use a new --run-id`)
    }
    return { plan, first: false }
  }

  async plan(): Promise<string[] | null> {
    const stored = await this.redis.get(this.key('plan'))
    return stored ? (JSON.parse(stored) as string[]) : null
  }

  /** One round trip: puts lapsed leases back, then takes the first free test (or says none is free). */
  async claim(worker: string): Promise<ClaimAnswer> {
    const k = ['free', 'leases', 'holder', 'attempts', 'tokens', 'results'].map((n) => this.key(n))
    const [slot, a, b] = await this.redis.crClaim(...k, this.leaseMs, worker, this.ttlS)
    return slot < 0 ? { slot: -1, finished: a, leased: b } : { slot, token: a, attempt: b }
  }

  /** Extends the leases still held; false for each that was lost (taken over, or finished elsewhere). */
  async renew(held: Array<{ slot: number; token: number }>): Promise<boolean[]> {
    if (held.length === 0) return []
    const args = held.flatMap((h) => [h.slot, h.token])
    const out = await this.redis.crRenew(this.key('leases'), this.key('holder'), this.leaseMs, ...args)
    return out.map((x) => x === 1)
  }

  /** Records an outcome if `token` still holds the lease; false means the result was fenced off. */
  async finish(slot: number, token: number, outcome: unknown): Promise<boolean> {
    return (await this.redis.crFinish(this.key('leases'), this.key('holder'), this.key('results'), slot, token, JSON.stringify(outcome), this.ttlS)) === 1
  }

  /** Hands a held claim back at once (a local worker died, or this process is stopping). */
  async release(slot: number, token: number): Promise<boolean> {
    return (await this.redis.crRelease(this.key('free'), this.key('leases'), this.key('holder'), slot, token)) === 1
  }

  async results(): Promise<Map<number, unknown>> {
    const all = await this.redis.hgetall(this.key('results'))
    return new Map(Object.entries(all).map(([k, v]) => [Number(k), JSON.parse(v) as unknown]))
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect())
  }
}

/** The URL without its password, for messages. */
export function redacted(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return url
  }
}
