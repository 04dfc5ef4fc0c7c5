import type { Redis } from 'ioredis'
import { DEFAULTS } from '../options/defaults.js'
import { ClaimrunError } from '../vocab/errors.js'
import { storeDb } from '../options/store-url.js'
import { withRedis } from './load-redis.js'
import type { ClaimWait } from '../claim/claim-source.js'

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
 * Keys (all under `claimrun:{<run id>}:`, one hash slot). Every script checks the run's epoch first
 * and refreshes the TTL of every key, so the keys of a run live and expire together, `--ttl`
 * seconds after the run's last activity (runners touch them at least every third of the TTL):
 *   plan      JSON array of test ids, in claim order (written once, by the first process)
 *   epoch     a random id of this incarnation of the run; gone or different = the store lost the run
 *   free      ZSET index → score index: claimable, in plan order
 *   leases    ZSET index → score expiry (server time, ms)
 *   holder    HASH index → "<token> <worker>"
 *   attempts  HASH index → claims so far
 *   tokens    counter for fencing tokens
 *   results   HASH index → JSON outcome
 *   finisher  HASH index → the fencing token whose FINISH recorded that outcome
 *   rgroups   HASH index → the run-wide lock groups of that test, space-separated (written once, by the first process)
 *   rgmax     HASH group → its max (written once, by the first process)
 *   rgused    HASH group → how many leases hold it now
 *   waiting   HASH index → "<since> <why>": when a CLAIM first passed the free test over for its needs
 *             (server ms), and why ('g' a group full on that machine, 'c' capacity there, 'r' a heavier
 *             test's reservation there, or 'w <group>' a run-wide group full); the CLAIM that takes it
 *             removes it and returns the wait
 *
 * A run-wide group is held by a test's lease: taken by the CLAIM that leases the test (all of its
 * groups or none), given back by the FINISH or RELEASE of that lease's token, or when the lease
 * lapses (by the next CLAIM), whichever comes first; each of these removes the holder entry, so a
 * lease gives its groups back exactly once and a fenced-off holder can never give back another's.
 */

const KEY_NAMES = ['plan', 'epoch', 'free', 'leases', 'holder', 'attempts', 'tokens', 'results', 'finisher', 'rgroups', 'rgmax', 'rgused', 'waiting'] as const

/** Raised by a script when the run's epoch is gone or different: the store lost the run. */
const LOST = 'CLAIMRUN_LOST'

// Every script but INIT takes all keys (in KEY_NAMES order) and ARGV[1] = epoch, ARGV[2] = ttl.
const PRELUDE = `if redis.call('GET', KEYS[2]) ~= ARGV[1] then return redis.error_reply('${LOST}') end
for k = 1, #KEYS do redis.call('EXPIRE', KEYS[k], ARGV[2]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function hold(i, by)
  local gs = redis.call('HGET', KEYS[10], i)
  if gs then for g in string.gmatch(gs, '%S+') do redis.call('HINCRBY', KEYS[12], g, by) end end
end
local function fullWide(i)
  local gs = redis.call('HGET', KEYS[10], i)
  if not gs then return nil end
  for g in string.gmatch(gs, '%S+') do
    if tonumber(redis.call('HGET', KEYS[12], g) or '0') >= tonumber(redis.call('HGET', KEYS[11], g)) then return g end
  end
  return nil
end`

// KEYS: all; ARGV: ttl json n epoch runWide (JSON: {max: {group: max}, tests: {index: "g1 g2"}}). Returns {plan, epoch}: ours if first, else the run's.
const INIT = `local existing = redis.call('GET', KEYS[1])
if existing then
  local epoch = redis.call('GET', KEYS[2])
  if not epoch then return redis.error_reply('${LOST}') end
  for k = 1, #KEYS do redis.call('EXPIRE', KEYS[k], ARGV[1]) end
  return {existing, epoch}
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[4])
local n = tonumber(ARGV[3])
for i = 0, n - 1, 500 do
  local args = {}
  for j = i, math.min(i + 499, n - 1) do
    args[#args + 1] = j
    args[#args + 1] = j
  end
  redis.call('ZADD', KEYS[3], unpack(args))
end
local wide = cjson.decode(ARGV[5])
for g, max in pairs(wide.max) do redis.call('HSET', KEYS[11], g, max) end
for i, gs in pairs(wide.tests) do redis.call('HSET', KEYS[10], i, gs) end
for k = 1, #KEYS do redis.call('EXPIRE', KEYS[k], ARGV[1]) end
return {ARGV[2], ARGV[4]}`

// ARGV: epoch ttl leaseMs worker mask. The mask has a character per test (claim/groups.ts fitMask)
// saying whether its needs fit on the claiming machine ('.'), a group of it is full there ('g':
// passed over), it needs more capacity than is free there ('A'-'D': the first such test holds a
// reservation of that class; 'c': nothing after it is taken), or it fits but may start beside only
// some reservations ('0' + bits, bit k for class k; otherwise passed over while one of another
// class holds); empty when the machine has no needs. A test whose run-wide groups are not all free
// is passed over; the first that fits is taken. Each test passed over notes when it first was, and
// why (waiting: 'g', 'c', 'r' a reservation, 'w <group>'), and the take returns how long it waited, why.
const CLAIM = `${PRELUDE}
local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for _, i in ipairs(expired) do
  redis.call('ZREM', KEYS[4], i)
  if redis.call('HEXISTS', KEYS[5], i) == 1 then hold(i, -1) end
  redis.call('HDEL', KEYS[5], i)
  if redis.call('HEXISTS', KEYS[8], i) == 0 then redis.call('ZADD', KEYS[3], tonumber(i), i) end
end
local i
local mask = ARGV[5]
if mask == '' and redis.call('EXISTS', KEYS[10]) == 0 then
  local popped = redis.call('ZPOPMIN', KEYS[3])
  i = popped[1]
else
  local from = 0
  local blocked = false
  local head = nil
  while not i and not blocked do
    local batch = redis.call('ZRANGE', KEYS[3], from, from + 99)
    if #batch == 0 then break end
    for _, c in ipairs(batch) do
      local m = string.sub(mask, c + 1, c + 1)
      local b = string.byte(m) or 46
      if m == 'c' or m == 'g' then
        redis.call('HSETNX', KEYS[13], c, now .. ' ' .. m)
        if m == 'c' then blocked = true break end
      elseif b >= 65 and b <= 68 then
        redis.call('HSETNX', KEYS[13], c, now .. ' c')
        if not head then head = b - 65 end
      elseif head and b >= 48 and b <= 63 and math.floor((b - 48) / 2 ^ head) % 2 == 0 then
        redis.call('HSETNX', KEYS[13], c, now .. ' r')
      else
        local full = fullWide(c)
        if not full then i = c break end
        redis.call('HSETNX', KEYS[13], c, now .. ' w ' .. full)
      end
    end
    from = from + 100
  end
  if i then
    redis.call('ZREM', KEYS[3], i)
    hold(i, 1)
  end
end
-- Keys this script created (waiting, free again) expire with the run's, whatever it answers.
for k = 1, #KEYS do redis.call('EXPIRE', KEYS[k], ARGV[2]) end
if not i then
  return {-1, redis.call('HLEN', KEYS[8]), redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[3])}
end
-- Read before the lease is written: an entry that does not parse is no wait, never an error halfway.
local waitMs, why = 0, ''
local since, reason = string.match(redis.call('HGET', KEYS[13], i) or '', '^(%d+) (.+)$')
if since then
  waitMs = math.max(0, now - tonumber(since))
  why = reason
end
redis.call('HDEL', KEYS[13], i)
local token = redis.call('INCR', KEYS[7])
local attempt = redis.call('HINCRBY', KEYS[6], i, 1)
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), i)
redis.call('HSET', KEYS[5], i, token .. ' ' .. ARGV[4])
for k = 1, #KEYS do redis.call('EXPIRE', KEYS[k], ARGV[2]) end
return {tonumber(i), token, attempt, waitMs, why}`

// ARGV: epoch ttl leaseMs, then slot token pairs (none: a heartbeat that only keeps the run alive)
const RENEW = `${PRELUDE}
local out = {}
for k = 4, #ARGV, 2 do
  local h = redis.call('HGET', KEYS[5], ARGV[k])
  if h and string.match(h, '^(%d+)') == ARGV[k + 1] then
    redis.call('ZADD', KEYS[4], 'XX', now + tonumber(ARGV[3]), ARGV[k])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out`

// ARGV: epoch ttl slot token json. The same token again (ioredis resends a command whose
// connection dropped before the answer came) is answered 1 and changes nothing: it is the same
// claim's one outcome, already recorded.
const FINISH = `${PRELUDE}
if redis.call('HEXISTS', KEYS[8], ARGV[3]) == 1 then
  if redis.call('HGET', KEYS[9], ARGV[3]) == ARGV[4] then return 1 end
  return 0
end
local h = redis.call('HGET', KEYS[5], ARGV[3])
if not h or string.match(h, '^(%d+)') ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[8], ARGV[3], ARGV[5])
redis.call('HSET', KEYS[9], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[8], ARGV[2])
redis.call('EXPIRE', KEYS[9], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[3])
hold(ARGV[3], -1)
redis.call('HDEL', KEYS[5], ARGV[3])
return 1`

// ARGV: epoch ttl slot token
const RELEASE = `${PRELUDE}
local h = redis.call('HGET', KEYS[5], ARGV[3])
if not h or string.match(h, '^(%d+)') ~= ARGV[4] then return 0 end
hold(ARGV[3], -1)
redis.call('ZREM', KEYS[4], ARGV[3])
redis.call('HDEL', KEYS[5], ARGV[3])
redis.call('ZADD', KEYS[3], tonumber(ARGV[3]), ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[2])
return 1`

export interface RemoteClaim {
  slot: number
  token: number
  attempt: number
  /** How long the test stood passed over for its needs before this claim took it (absent: it did not wait). */
  waited?: ClaimWait
}

export type ClaimAnswer = RemoteClaim | { slot: -1; finished: number; leased: number; free: number }

const storeWait = (ms: number, why: string): ClaimWait =>
  why.startsWith('w ') ? { ms, why: 'run-wide', group: why.slice(2) } : { ms, why: why === 'c' ? 'capacity' : why === 'r' ? 'reserved' : 'group' }

/** The run-wide lock groups of a plan: each group's max, and each test's groups (aligned with the plan's ids; [] for none). */
export interface RunWideGroups {
  max: Record<string, number>
  tests: string[][]
}

type Arg = string | number
interface Scripts {
  crInit(...keysAndArgs: Arg[]): Promise<[string, string]>
  crClaim(...keysAndArgs: Arg[]): Promise<[number, number, number, number?, string?]>
  crRenew(...keysAndArgs: Arg[]): Promise<number[]>
  crFinish(...keysAndArgs: Arg[]): Promise<number>
  crRelease(...keysAndArgs: Arg[]): Promise<number>
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

/** The store no longer holds the run (restarted without persistence, expired, flushed, evicted). */
export class StoreLostError extends Error {
  override name = 'StoreLostError'
}

export class RedisStore {
  private epoch = ''

  private constructor(
    private readonly redis: Redis & Scripts,
    readonly runId: string,
    readonly leaseMs: number,
    readonly ttlS: number,
    readonly url: string,
  ) {}

  /** Connects, or fails with one line (CLAIMRUN_STORE) within a few seconds; never hangs. */
  static async connect(url: string, runId: string, leaseMs = DEFAULTS.leaseS * 1000, ttlS = DEFAULTS.ttlS): Promise<RedisStore> {
    checkUrl(url)
    let connected = false
    let lastError: Error | undefined
    // Imported here, not at the top: the CLI's bundle would otherwise load it at every start (see scripts/bundle.mjs).
    const { Redis: Client } = await withRedis(() => import('ioredis'))
    const redis = new Client(url, {
      lazyConnect: true,
      connectTimeout: 3000,
      // A command waits at most this long, so the runner always learns that the store is away in
      // time to act on it (see RemoteClaims: the reconnect window is half the lease).
      commandTimeout: Math.max(100, Math.min(5000, leaseMs / 4)),
      maxRetriesPerRequest: 3,
      // No retries for the first connect (a wrong address fails at once); during a run, keep
      // reconnecting: RemoteClaims decides when the store has been away too long.
      retryStrategy: (times) => (!connected ? null : Math.min(times * 50, 500)),
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
    await selectDb(redis, url)
    redis.defineCommand('crInit', { numberOfKeys: KEY_NAMES.length, lua: INIT })
    redis.defineCommand('crClaim', { numberOfKeys: KEY_NAMES.length, lua: CLAIM })
    redis.defineCommand('crRenew', { numberOfKeys: KEY_NAMES.length, lua: RENEW })
    redis.defineCommand('crFinish', { numberOfKeys: KEY_NAMES.length, lua: FINISH })
    redis.defineCommand('crRelease', { numberOfKeys: KEY_NAMES.length, lua: RELEASE })
    return new RedisStore(redis, runId, leaseMs, ttlS, url)
  }

  key(name: string): string {
    return `claimrun:{${this.runId}}:${name}`
  }

  private keys(): string[] {
    return KEY_NAMES.map((n) => this.key(n))
  }

  /** Runs a script of this run; its LOST reply becomes a StoreLostError. */
  private async script<T>(call: (...keysAndArgs: Arg[]) => Promise<T>, ...args: Arg[]): Promise<T> {
    // A client that did not join (a bench, a tool) adopts the run as it is now.
    if (!this.epoch) this.epoch = (await this.redis.get(this.key('epoch'))) ?? ''
    try {
      return await call.call(this.redis, ...this.keys(), this.epoch, this.ttlS, ...args)
    } catch (err) {
      if (String((err as Error)?.message).includes(LOST)) throw new StoreLostError(`the store lost run ${this.runId} (its keys are gone: a restart without persistence, expiry or eviction)`)
      throw err
    }
  }

  /**
   * Publishes `ids` as the run's plan if this process is the first; otherwise checks that the plan
   * already there holds exactly the same tests, and returns it (its order wins).
   */
  async joinPlan(ids: string[], wide: RunWideGroups = { max: {}, tests: [] }): Promise<{ plan: string[]; first: boolean }> {
    const json = JSON.stringify(ids)
    const epoch = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`
    const tests: Record<string, string> = {}
    wide.tests.forEach((groups, i) => groups.length && (tests[i] = groups.join(' ')))
    let stored: string
    try {
      ;[stored, this.epoch] = await this.redis.crInit(...this.keys(), this.ttlS, json, ids.length, epoch, JSON.stringify({ max: wide.max, tests }))
    } catch (err) {
      if (!String((err as Error)?.message).includes(LOST)) throw err
      throw new ClaimrunError('CLAIMRUN_STORE', `run ${this.runId} is damaged in the store (its plan is there but not its epoch); use a new --run-id`)
    }
    const plan = JSON.parse(stored) as string[]
    if (this.epoch === epoch) return { plan, first: true }
    const mine = new Set(ids)
    const missing = plan.filter((id) => !mine.has(id))
    const extra = ids.filter((id) => !plan.includes(id))
    if (missing.length || extra.length || plan.length !== ids.length) {
      const detail = [missing.length ? `${missing.length} not found here (e.g. ${missing[0]})` : '', extra.length ? `${extra.length} not in the run (e.g. ${extra[0]})` : '']
        .filter(Boolean).join(', ')
      throw new ClaimrunError('CLAIMRUN_PLAN_MISMATCH', `run ${this.runId} already has a different test list: ${detail}; run the same paths on every machine, or use a new --run-id`)
    }
    await this.checkRunWide(plan, ids, wide)
    return { plan, first: false }
  }

  /** A process that joins must declare the run-wide groups the run has: the store enforces the first process's. */
  private async checkRunWide(plan: string[], ids: string[], wide: RunWideGroups): Promise<void> {
    const [max, groups] = await Promise.all([this.redis.hgetall(this.key('rgmax')), this.redis.hgetall(this.key('rgroups'))])
    const mine = new Map(ids.map((id, i) => [id, (wide.tests[i] ?? []).join(' ')]))
    const show = (m: Record<string, string | number>): string => Object.entries(m).map(([g, n]) => `${g} max ${n}`).sort().join(', ') || 'none'
    const k = plan.findIndex((id, i) => (groups[i] ?? '') !== mine.get(id))
    const what =
      k >= 0 ? `${plan[k]} is in ${groups[k] || 'none'} there, in ${mine.get(plan[k] as string) || 'none'} here` : show(max) !== show(wide.max) ? `${show(max)} there, ${show(wide.max)} here` : ''
    if (!what) return
    throw new ClaimrunError('CLAIMRUN_PLAN_MISMATCH', `run ${this.runId} already has different run-wide groups (${what}); use the same config on every machine, or use a new --run-id`)
  }

  async plan(): Promise<string[] | null> {
    const stored = await this.redis.get(this.key('plan'))
    return stored ? (JSON.parse(stored) as string[]) : null
  }

  /**
   * One round trip: puts lapsed leases back, then takes the first free test that `mask` lets this
   * machine take and whose run-wide groups have room (or says none is free or fits).
   */
  async claim(worker: string, mask = ''): Promise<ClaimAnswer> {
    const [slot, a, b, c, why] = await this.script(this.redis.crClaim, this.leaseMs, worker, mask)
    if (slot < 0) return { slot: -1, finished: a, leased: b, free: Number(c ?? 0) }
    return { slot, token: a, attempt: b, ...(Number(c) > 0 && typeof why === 'string' && why ? { waited: storeWait(Number(c), why) } : {}) }
  }

  /**
   * Extends the leases still held; false for each that was lost (taken over, or finished elsewhere).
   * With none held it is a heartbeat: it keeps the run's keys alive and checks the run is still there.
   */
  async renew(held: Array<{ slot: number; token: number }>): Promise<boolean[]> {
    const args = held.flatMap((h) => [h.slot, h.token])
    const out = await this.script(this.redis.crRenew, this.leaseMs, ...args)
    return out.map((x) => x === 1)
  }

  /**
   * Records an outcome if `token` still holds the lease; false means the result was fenced off.
   * True again for the same token once it has recorded (a resend after a reconnect).
   */
  async finish(slot: number, token: number, outcome: unknown): Promise<boolean> {
    return (await this.script(this.redis.crFinish, slot, token, JSON.stringify(outcome))) === 1
  }

  /** Hands a held claim back at once (a local worker died, or this process is stopping). */
  async release(slot: number, token: number): Promise<boolean> {
    return (await this.script(this.redis.crRelease, slot, token)) === 1
  }

  async results(): Promise<Map<number, unknown>> {
    const all = await this.redis.hgetall(this.key('results'))
    return new Map(Object.entries(all).map(([k, v]) => [Number(k), JSON.parse(v) as unknown]))
  }

  /** Says goodbye to the server; with the server away, just drops the connection (QUIT would only wait). */
  async close(): Promise<void> {
    if (this.redis.status !== 'ready') return this.redis.disconnect()
    await this.redis.quit().catch(() => this.redis.disconnect())
  }
}

/** ioredis ignores a refused SELECT and stays on db 0; select the URL's database ourselves, loudly. */
async function selectDb(redis: Redis, url: string): Promise<void> {
  const db = storeDb(url)
  if (db === 0) return
  try {
    await redis.select(db)
  } catch (err) {
    // Still on db 0, so the server can say how many it has (CONFIG may be disabled: then its own words).
    const count = await redis.config('GET', 'databases').then((r) => Number((r as string[])[1]) || null, () => null)
    redis.disconnect()
    const range = count ? `this server has databases 0-${count - 1}` : `the server refused it: ${(err as Error).message}`
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--store ${redacted(url)}: there is no database ${db} (${range}); use a database number it has`, { cause: err })
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
