// Claim contention: the same code as `claimrun bench` (dist/src/bench), with npm run bench's choice
// of thread counts and sizes, plus the Redis claim script on a redis-server of our own.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runBench } from '../dist/src/bench/bench.js'
import { sharesText } from '../dist/src/bench/render.js'

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-')

/** A redis-server on a free loopback port for the Redis claim rows (skipped without one). */
async function withRedis(log, fn) {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    log('  claims  redis: skipped (no redis-server on PATH)')
    return []
  }
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address()
      s.close(() => resolve(p))
    })
  })
  const dir = mkdtempSync(join(tmpdir(), 'claimrun-bench-redis-'))
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    await new Promise((resolve) => server.stdout.on('data', (d) => String(d).includes('Ready to accept') && resolve()))
    return await fn(`redis://127.0.0.1:${port}/0`)
  } finally {
    server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function benchClaims({ quick = false, log = console.log } = {}) {
  const printRow = (r) => log(`  claims  ${r.strategy.padEnd(11)} ${String(r.threads).padStart(2)} ${r.threads === 1 ? 'thread ' : 'threads'}  ${fmt(r.nsPerClaim, 1).padStart(9)} ns/claim  ${fmt(r.claimsPerSec / 1e6, 2).padStart(7)} M/s  duplicates ${r.duplicates}  shares ${sharesText(r.shares)}`)
  const slots = 1_000_000
  const messageSlots = 10_000
  const reps = quick ? 1 : 2
  const rows = await runBench({ threads: [1, 2, 3, 4, 8], slots, messageSlots, reps, strategies: ['cursor', 'scan', 'naive', 'postmessage', 'comlink'], store: null }, printRow)
  const redisSlots = quick ? 5000 : 20_000
  rows.push(...(await withRedis(log, (url) => runBench({ threads: [1, 2, 4, 8], slots: redisSlots, messageSlots: redisSlots, reps: 1, strategies: ['redis'], store: url }, printRow))))
  return { rows, slots, messageSlots, redisSlots, reps }
}
