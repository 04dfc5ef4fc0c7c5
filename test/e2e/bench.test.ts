import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { openPage } from '../support/browser.js'
import { CLI, ROOT, runCli, tempDir, write } from '../support/helpers.js'
import { startRedis } from '../support/redis.js'

interface Row { strategy: string; threads: number; slots: number; reps: number; nsPerClaim: number; claimsPerSec: number; duplicates: number; missing: number; shares: number[] }

const parse = (stdout: string): { node: string; cpus: number; rows: Row[] } => JSON.parse(stdout)

describe('claimrun bench', () => {
  it('races every strategy at each thread count: every slot claimed, no duplicates from the atomic ones, shares per thread', async () => {
    const dir = tempDir()
    const svg = join(dir, 'claims.svg')
    const r = await runCli(['bench', '--threads', '1,3', '--slots', '30000', '--message-slots', '300', '--reps', '2', '--json', '--svg', svg], { timeoutMs: 120_000 })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = parse(r.stdout)
    expect(out.node).toBe(process.version)
    expect(out.rows.map((x) => `${x.strategy}/${x.threads}`)).toEqual(
      ['cursor', 'needs', 'scan', 'naive', 'postmessage', 'comlink'].flatMap((s) => [`${s}/1`, `${s}/3`]),
    )
    for (const row of out.rows) {
      expect(row.reps).toBe(2)
      expect(row.slots).toBe(['postmessage', 'comlink'].includes(row.strategy) ? 300 : 30000)
      expect(row.missing).toBe(0)
      expect(row.nsPerClaim).toBeGreaterThan(0)
      expect(row.claimsPerSec).toBeCloseTo(1e9 / row.nsPerClaim, 3)
      expect(row.shares).toHaveLength(row.threads)
      // At least the whole (the race may hand a slot out twice); summed floats, so within 1e-9.
      expect(row.shares.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1 - 1e-9)
      if (row.strategy !== 'naive') {
        expect(row.duplicates).toBe(0)
        // Exactly one claim per slot: the shares add up to the whole.
        expect(row.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9)
      }
    }
    const chart = readFileSync(svg, 'utf8')
    expect(chart.startsWith('<svg')).toBe(true)
    expect(chart).toContain('comlink call per claim')
    expect(chart.match(/<rect [^>]*><title>/g)).toHaveLength(out.rows.length)
  }, 150_000)

  it('prints a table by default, one row per strategy and thread count, and only the table (no rows before it on stderr)', async () => {
    const r = await runCli(['bench', '--threads', '2', '--slots', '5000', '--message-slots', '100', '--reps', '1', '--strategies', 'cursor,postmessage'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toContain(`Node ${process.version}`)
    expect(lines[1]).toMatch(/^strategy\s+threads\s+slots\s+ns\/claim\s+claims\/s\s+duplicates\s+shares/)
    expect(lines.slice(3).map((l) => l.replace(/\s{2,}.*/, ''))).toEqual([
      'shared cursor (Atomics.add) + compareExchange — claimrun', 'postMessage request/response via the main thread',
    ])
    expect(lines[3]).toMatch(/\s2\s+5000\s+[\d.]+\s+\d+\s+0\s+\d+ \d+$/)
  }, 60_000)

  it('with --store, races claimrun\'s Redis claim script on a real redis-server too: no duplicates', async () => {
    const dir = tempDir()
    const { url } = await startRedis(dir)
    const r = await runCli(['bench', '--store', url, '--strategies', 'redis', '--threads', '1,4', '--message-slots', '400', '--reps', '1', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const rows = parse(r.stdout).rows
    expect(rows.map((x) => `${x.strategy}/${x.threads}/${x.slots}`)).toEqual(['redis/1/400', 'redis/4/400'])
    for (const row of rows) {
      expect(row.duplicates).toBe(0)
      expect(row.missing).toBe(0)
      expect(row.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9)
    }
  }, 60_000)

  it('on a terminal: one progress line, redrawn and erased, then the table: each row shown once', async () => {
    const dir = tempDir()
    const command = `stty rows 40 cols 200; exec ${process.execPath} ${CLI} bench --threads 1,2 --slots 2000 --message-slots 50 --reps 1 --strategies cursor,comlink`
    const r = await promisify(execFile)('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 })
    const screen = r.stdout.replace(/\r/g, '')
    expect(screen).toContain('claimrun bench: 4 of 4 measured (last: comlink, 2 threads)')
    expect(screen.match(/^strategy +threads/gm)).toHaveLength(1)
    expect(screen.match(/ns\/claim/g)).toHaveLength(1) // the table's header: no row of figures before it
    expect(screen.match(/^comlink call per claim +2 /gm)).toHaveLength(1)
  }, 60_000)

  it('the chart\'s legend labels never overlap, in a fresh chart and in the committed bench/claims.svg, as Chromium lays them out', async () => {
    const dir = tempDir()
    const svg = join(dir, 'claims.svg')
    const r = await runCli(['bench', '--threads', '1,2', '--slots', '2000', '--message-slots', '50', '--reps', '1', '--json', '--svg', svg])
    expect(r.code, r.stderr).toBe(0)
    const { page, errors } = await openPage()
    for (const file of [svg, join(ROOT, 'bench', 'claims.svg'), join(ROOT, 'bench', 'contention-16', 'claims16.svg')]) {
      await page.goto(`file://${file}`)
      const boxes = await page.locator('svg text').evaluateAll((texts) => texts.map((t) => {
        const b = (t as SVGGraphicsElement).getBBox()
        return { text: t.textContent ?? '', legend: t.parentElement?.getAttribute('class') === 'legend', x: b.x, y: b.y, right: b.x + b.width, bottom: b.y + b.height }
      }))
      const size = await page.locator('svg').evaluate((s) => ({ width: Number(s.getAttribute('width')), height: Number(s.getAttribute('height')) }))
      const legend = boxes.filter((b) => b.legend)
      expect(legend.length, file).toBeGreaterThanOrEqual(5)
      const others = boxes.filter((b) => !b.legend && b.y > Math.min(...legend.map((l) => l.y)) - 20)
      for (const [i, a] of legend.entries()) {
        expect(a.right, `${a.text} fits (${file})`).toBeLessThanOrEqual(size.width)
        expect(a.bottom, `${a.text} fits (${file})`).toBeLessThanOrEqual(size.height)
        for (const b of [...legend.slice(i + 1), ...others]) {
          const overlap = a.x < b.right && b.x < a.right && a.y < b.bottom && b.y < a.bottom
          expect(overlap, `"${a.text}" and "${b.text}" overlap in ${file}`).toBe(false)
        }
      }
    }
    expect(errors).toEqual([])
  }, 60_000)

  it.each([
    [['--threads', '0'], /--threads must be a whole number from 1 to 1024 \(received "0"\)/],
    [['--threads', '2,x'], /--threads must be a whole number/],
    [['--slots', '-5'], /--slots must be a whole number from 1/],
    [['--reps', '1.5'], /--reps must be a whole number/],
    [['--strategies', 'cursor,queue'], /--strategies must be a comma-separated list of cursor, needs, scan, naive, postmessage, comlink, redis \(received "queue"\)/],
    [['--strategies', 'redis'], /--strategies must be without redis unless --store <url> is given/],
    [['--store', 'http://x'], /--store must be a redis:\/\/ or rediss:\/\/ URL/],
  ])('bad input %j: one line naming the flag, exit 2', async (args, message) => {
    const r = await runCli(['bench', ...args])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(message)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})

describe('claimrun/board, the exported claim primitive', () => {
  it('is importable by its package name, and threads sharing one board claim each slot exactly once', async () => {
    // Installed the way a user's project has it: node_modules/claimrun pointing at this package.
    const dir = tempDir()
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(ROOT, join(dir, 'node_modules', 'claimrun'), 'dir')
    write(dir, 'thread.mjs', `
      import { workerData, parentPort } from 'node:worker_threads'
      import { claim, finish } from 'claimrun/board'
      const { board, lane } = workerData
      const mine = []
      for (let s = claim(board, lane); s >= 0; s = claim(board, lane)) { mine.push(s); finish(board, s, lane) }
      parentPort.postMessage(mine)
    `)
    write(dir, 'main.mjs', `
      import { Worker } from 'node:worker_threads'
      import { create, claim, release, stats } from 'claimrun/board'
      const board = create(20000, 4)
      const mine = await Promise.all([1, 2, 3, 4].map((lane) => new Promise((resolve, reject) => {
        const w = new Worker(new URL('./thread.mjs', import.meta.url), { workerData: { board, lane } })
        w.once('message', resolve)
        w.once('error', reject)
      })))
      const all = mine.flat().sort((a, b) => a - b)
      // release: a slot held by lane 1 goes back to the board and the next claim (lane 2's) gets it.
      const small = create(3, 2)
      const a = claim(small, 1)
      const handedBack = release(small, a, 1)
      const again = claim(small, 2)
      const wrongLane = release(small, again, 1)
      console.log(JSON.stringify({ count: all.length, unique: new Set(all).size, first: all[0], last: all.at(-1), s: stats(board), a, handedBack, again, wrongLane, small: stats(small) }))
    `)
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'main.mjs')], { cwd: dir })
    const out = JSON.parse(stdout)
    expect(out).toMatchObject({ count: 20000, unique: 20000, first: 0, last: 19999, a: 0, handedBack: true, again: 0, wrongLane: false })
    expect(out.s).toMatchObject({ size: 20000, lanes: 4, free: 0, running: 0, finished: 20000 })
    expect(out.s.byLane.reduce((x: number, y: number) => x + y, 0)).toBe(20000)
    expect(out.small).toEqual({ size: 3, lanes: 2, free: 2, running: 1, finished: 0, byLane: [0, 1] })
    // Typed: the exports map points TypeScript at declarations for the same entry.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect(existsSync(join(ROOT, pkg.exports['./board'].types))).toBe(true)
  }, 60_000)

  it('rejects a board it cannot make, naming the argument', async () => {
    const { create } = await import('../../dist/src/claim/public-board.js')
    expect(() => create(-1, 2)).toThrow(new RangeError('size must be a whole number ≥ 0 (received -1)'))
    expect(() => create(10, 0)).toThrow(/lanes must be a whole number from 1 to 1024 \(received 0\)/)
  })
})
