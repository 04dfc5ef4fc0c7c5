// The Redis claim store under concurrent clients: claims per second through the real Lua claim
// script on a local redis-server, and duplicates (0 expected). Skipped when redis-server is absent.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RedisStore } from '../dist/src/store/redis-store.js'

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address()
    s.close(() => resolve(port))
  })
})

export async function benchRedisClaims({ clients = [1, 2, 4, 8], claims = 20_000, log = console.log } = {}) {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    log('  claims  redis: skipped (no redis-server on PATH)')
    return []
  }
  const dir = mkdtempSync(join(tmpdir(), 'claimrun-bench-redis-'))
  const port = await freePort()
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise((resolve) => server.stdout.on('data', (d) => String(d).includes('Ready to accept') && resolve()))
  const url = `redis://127.0.0.1:${port}/0`
  const rows = []
  try {
    const ids = Array.from({ length: claims }, (_, i) => `t${i}`)
    for (const n of clients) {
      const runId = `bench-${n}-${Date.now()}`
      const stores = await Promise.all(Array.from({ length: n }, () => RedisStore.connect(url, runId, 600_000)))
      await stores[0].joinPlan(ids)
      const won = new Uint8Array(claims)
      const t0 = process.hrtime.bigint()
      await Promise.all(stores.map(async (store, k) => {
        for (;;) {
          const c = await store.claim(`n/worker${k}`)
          if (c.slot < 0) return
          won[c.slot]++
        }
      }))
      const ns = Number(process.hrtime.bigint() - t0)
      await Promise.all(stores.map((s) => s.close()))
      let duplicates = 0
      let missing = 0
      for (const w of won) {
        if (w > 1) duplicates += w - 1
        if (w === 0) missing++
      }
      const row = { strategy: 'redis', threads: n, slots: claims, nsPerClaim: ns / claims, claimsPerSec: claims / (ns / 1e9), duplicates, missing }
      rows.push(row)
      log(`  claims  redis       ${String(n).padStart(2)} clients  ${row.nsPerClaim.toFixed(1).padStart(9)} ns/claim  ${(row.claimsPerSec / 1e6).toFixed(3).padStart(7)} M/s  duplicates ${duplicates}`)
    }
  } finally {
    server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRedisClaims()
