/**
 * `claimrun bench`: claim contention across strategies, thread counts and slot counts. The options are
 * validated once here (flags → BenchOptions); `npm run bench` calls `runBench` with its own choice.
 */
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { badOption } from '../vocab/errors.js'
import { MAX_LANES } from '../claim/public-board.js'
import { claimsChart } from './chart.js'
import { benchContention } from './contention.js'
import { benchRedis } from './redis-claims.js'
import { renderJson, renderTable, type BenchMeta } from './render.js'
import { LOCAL_STRATEGIES, STRATEGIES, type BenchRow, type Strategy } from './strategies.js'

export interface BenchOptions {
  threads: number[]
  slots: number
  messageSlots: number
  reps: number
  strategies: Strategy[]
  store: string | null
}

export interface BenchFlags {
  threads?: string
  slots?: string | number
  messageSlots?: string | number
  reps?: string | number
  strategies?: string
  store?: string
}

const MAX_SLOTS = 50_000_000

function whole(option: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim() || NaN)
  if (!Number.isSafeInteger(n) || n < min || n > max) throw badOption(option, value, `a whole number from ${min} to ${max}`)
  return n
}

/** Flags as typed on the command line → checked options. Throws a ClaimrunError naming the bad flag. */
export function benchOptions(flags: BenchFlags): BenchOptions {
  const threads = (flags.threads ?? '1,2,4,8').split(',').map((t) => whole('--threads', t, 1, MAX_LANES))
  const store = flags.store ?? null
  if (store !== null && !/^rediss?:\/\//.test(store)) throw badOption('--store', store, 'a redis:// or rediss:// URL')
  const known = Object.keys(STRATEGIES) as Strategy[]
  const strategies = flags.strategies
    ? flags.strategies.split(',').map((s) => {
        const name = s.trim() as Strategy
        if (!known.includes(name)) throw badOption('--strategies', s, `a comma-separated list of ${known.join(', ')}`)
        return name
      })
    : [...LOCAL_STRATEGIES, ...(store ? (['redis'] as const) : [])]
  if (strategies.includes('redis') && !store) throw badOption('--strategies', flags.strategies, 'without redis unless --store <url> is given')
  return {
    threads: [...new Set(threads)].sort((a, b) => a - b),
    slots: whole('--slots', flags.slots ?? 1_000_000, 1, MAX_SLOTS),
    messageSlots: whole('--message-slots', flags.messageSlots ?? 10_000, 1, MAX_SLOTS),
    reps: whole('--reps', flags.reps ?? 3, 1, 1000),
    strategies,
    store,
  }
}

export function benchMeta(): BenchMeta {
  const cpu = cpus()
  return { node: process.version, cpus: cpu.length, cpuModel: cpu[0]?.model.trim() ?? 'unknown CPU', platform: process.platform, date: new Date().toISOString() }
}

/** Runs every chosen strategy at every thread count; `onRow` sees each row as it is measured. */
export async function runBench(o: BenchOptions, onRow?: (row: BenchRow) => void): Promise<BenchRow[]> {
  const local = o.strategies.filter((s): s is Exclude<Strategy, 'redis'> => s !== 'redis')
  const rows = await benchContention({ strategies: local, threads: o.threads, slots: o.slots, messageSlots: o.messageSlots, reps: o.reps, ...(onRow ? { onRow } : {}) })
  if (o.store && o.strategies.includes('redis')) {
    rows.push(...(await benchRedis({ url: o.store, clients: o.threads, slots: o.messageSlots, reps: o.reps, ...(onRow ? { onRow } : {}) })))
  }
  return rows
}

/**
 * The command: the table (or JSON) on stdout, the chart where asked. The rows appear once, in the
 * table: on a terminal, stderr shows one progress line, rewritten as each row is measured and
 * erased before the table; elsewhere (a log, a pipe) nothing but the table is printed.
 */
export async function benchCommand(flags: BenchFlags & { json?: boolean; svg?: string }): Promise<void> {
  const { stderr } = process
  const options = benchOptions(flags)
  const meta = benchMeta()
  const total = options.strategies.length * options.threads.length
  let measured = 0
  // log-update redraws the one line (as the live view does), so no escape code is written by hand.
  const line = stderr.isTTY ? (await import('log-update')).createLogUpdate(stderr) : null
  const rows = await runBench(options, line ? (r) => line(`claimrun bench: ${++measured} of ${total} measured (last: ${r.strategy}, ${r.threads} thread${r.threads === 1 ? '' : 's'})`) : undefined)
  line?.clear()
  line?.done()
  if (flags.svg) writeFileSync(flags.svg, claimsChart(rows, `${meta.cpus} × ${meta.cpuModel}, Node ${meta.node}, ${meta.platform}`))
  process.stdout.write(flags.json ? renderJson(rows, meta) : renderTable(rows, meta))
}
