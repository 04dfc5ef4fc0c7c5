import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { prestartLanes } from '../../dist/src/cli/prestart-args.js'
import { DEFAULTS } from '../../dist/src/options/defaults.js'
import { ROOT, runCli, tempDir, write } from '../support/helpers.js'

describe('worker threads started while the CLI loads', () => {
  it('the entry reads how many threads a run will use from its arguments, or starts none when unsure', () => {
    const dir = tempDir()
    write(dir, 'a.sh', 'exit 0\n')
    write(dir, 'b.sh', 'exit 0\n')
    mkdirSync(join(dir, 'suite'))
    write(dir, 'one/test_1.sh', 'exit 0\n')
    write(dir, 'nested/a/test_1.sh', 'exit 0\n')
    write(dir, 'nested/b/c/test_2.sh', 'exit 0\n')
    for (let i = 1; i <= 7; i++) write(dir, `big/sub/test_${i}.sh`, 'exit 0\n')
    expect(DEFAULTS.workers).toBe(3)
    const cases: Array<[string[], { threads: number; max: number } | null]> = [
      [['run'], { threads: 3, max: 3 }],
      // A folder's files, counted up to --workers, bound its tests: no thread for a test that cannot exist.
      [['run', 'suite'], null],
      [['run', 'one'], { threads: 1, max: 3 }],
      [['run', 'nested'], { threads: 2, max: 3 }],
      [['run', 'big'], { threads: 3, max: 3 }],
      [['run', '-w', '5', 'big'], { threads: 5, max: 5 }],
      [['run', '-w', '5', 'nested', 'one'], { threads: 3, max: 5 }],
      [['run', '-w5', 'a.sh'], { threads: 1, max: 5 }],
      [['run', 'a.sh'], { threads: 1, max: 3 }],
      [['run', '--workers=2', 'a.sh', 'b.sh', 'suite'], { threads: 2, max: 2 }],
      [['run', '--out', 'suite', '--bail', '2', 'a.sh', '--no-history', 'b.sh'], { threads: 2, max: 3 }],
      [['run', '--bail', '3', 'a.sh'], { threads: 1, max: 3 }],
      [['run', '--json', 'suite', 'a.sh'], { threads: 1, max: 3 }],
      [['run', '--json', '--grep', 'x', 'a.sh'], { threads: 1, max: 3 }],
      [['run', '--env', 'A=1', 'a.sh'], null],
      [['run', '--list', 'suite'], null],
      [['run', '--', 'a.sh'], { threads: 1, max: 3 }],
      [['run', 'missing.sh'], null],
      [['run', '-w', 'abc', 'suite'], null],
      [['run', '-w'], null],
      [['run', '--help'], null],
      [['bench'], null],
      [[], null],
    ]
    for (const [argv, expected] of cases) expect(prestartLanes(argv, dir), argv.join(' ')).toEqual(expected)
  })

  it('the threads started before piscina loads are the pool\'s own: adopted when asked for as made, else ended', async () => {
    const dir = tempDir()
    const dist = (file: string): string => JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/lanes', file)).href)
    // Thread ids count up from 1 in a process: the first threads started are 1 and 2, any piscina makes itself come after.
    write(dir, 'pool.mjs', `
import { releaseFirstThreads, startFirstThreads } from ${dist('first-threads.js')}
import { endPool, prestart, takePool } from ${dist('prestart.js')}
import { createPool } from ${dist('pool.js')}
const first = startFirstThreads(2, 3)
let pool
if (process.argv[2] === 'as-made') {
  prestart(first)
  const left = releaseFirstThreads()
  pool = await takePool(2, undefined)
  console.log(JSON.stringify({ left, threads: pool.threads.map((t) => t.threadId) }))
  await endPool(pool)
} else {
  // Other options (an environment of its own): not what the first threads were made as.
  pool = createPool(1, undefined, { EXTRA: '1' })
  const left = releaseFirstThreads()
  console.log(JSON.stringify({ left, threads: pool.threads.map((t) => t.threadId) }))
  await pool.destroy()
}
`)
    const cases: Array<[string, { left: number; threads: number[] }]> = [
      ['as-made', { left: 0, threads: [1, 2] }],
      ['other', { left: 2, threads: [3] }],
    ]
    for (const [how, expected] of cases) {
      // It must end by itself (the threads piscina did not take included), with its exit code.
      const r = await runCli([how], { cwd: dir, cli: join(dir, 'pool.mjs') })
      expect({ how, code: r.code, signal: r.signal }, r.stderr).toEqual({ how, code: 0, signal: null })
      expect(JSON.parse(r.stdout)).toEqual(expected)
    }
  })

  it('ten or more threads started first: a passing run still writes nothing to stderr (no MaxListenersExceededWarning)', async () => {
    const dir = tempDir()
    write(dir, 'test/test_1.sh', 'exit 0\n')
    // No path: the guess is --workers, so 12 threads start before the guards are armed, each
    // piping its stdio into the runner's (one 'error' listener apiece on stdout and on stderr).
    const r = await runCli(['run', '--workers', '12', '--no-history', '--out', join(dir, 'out')], { cwd: dir })
    expect({ code: r.code, signal: r.signal }, r.stderr).toEqual({ code: 0, signal: null })
    expect(r.stderr).toBe('')
  })

  it('a stop signal while the first threads are being started is the run\'s: exit 143, every test notrun, none claimed', async () => {
    const dir = tempDir()
    for (let i = 1; i <= 3; i++) write(dir, `suite/test_${i}.sh`, 'exit 0\n')
    // Starting a thread takes the main thread ~1 ms alone, many times that when the threads already
    // started take the CPU (64 took 0.3-0.5 s on 2 cores). To land a SIGTERM in that span every
    // time, the runner's main thread sends it to itself as its second thread is made; then, before
    // its event loop first turns (when Node would hand the signal to claimrun), it waits until the
    // threads have booted: as on a loaded machine, they are ready to claim before the signal is read.
    write(dir, 'signal-on-second-thread.cjs', `
const threads = require('node:worker_threads')
if (threads.isMainThread) {
  const Made = threads.Worker
  let made = 0
  threads.Worker = function Worker(file, options) {
    const worker = new Made(file, options)
    if (++made === 2) {
      process.kill(process.pid, 'SIGTERM')
      const booted = options.workerData.booted
      const deadline = Date.now() + 20000
      process.nextTick(() => {
        for (let n; (n = Atomics.load(booted, 0)) < 3 && Date.now() < deadline; ) Atomics.wait(booted, 0, n, 1000)
      })
    }
    return worker
  }
}
`)
    const env = { NODE_OPTIONS: `--require ${join(dir, 'signal-on-second-thread.cjs')}` }
    for (let round = 0; round < 3; round++) {
      const r = await runCli(['run', 'suite', '--workers', '3', '--no-history', '--out', join(dir, 'out')], { cwd: dir, env })
      expect({ round, code: r.code, signal: r.signal }, r.stderr).toEqual({ round, code: 143, signal: null })
      expect(r.stderr).toMatch(/^\nclaimrun: SIGTERM: stopping/)
      const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { counts: Record<string, number> }
      expect(results.counts).toMatchObject({ notrun: 3, passed: 0, interrupted: 0 })
    }
  }, 60_000)

  it('a usage error while prestarted threads boot: one line, exit 2, never a signal', async () => {
    const dir = tempDir()
    write(dir, 'suite/test_1.sh', 'exit 0\n')
    mkdirSync(join(dir, 'empty'))
    // Each of these (but `empty`, which holds no file) starts threads first, then fails on what only the CLI checks.
    const attempts: Array<[string[], RegExp]> = [
      [['run', 'suite', '--order', 'bogus'], /^claimrun: option '--order <mode>' argument 'bogus' is invalid/],
      [['run', 'suite', '--timeout', '-1'], /--timeout/],
      [['run', 'empty'], /no tests/i],
      [['run', 'suite', '--frobnicate'], /unknown option '--frobnicate'/],
    ]
    for (let round = 0; round < 3; round++) {
      for (const [args, message] of attempts) {
        const r = await runCli([...args, '--out', join(dir, 'out')], { cwd: dir })
        expect({ args, code: r.code, signal: r.signal }).toEqual({ args, code: 2, signal: null })
        expect(r.stdout).toBe('')
        expect(r.stderr).toMatch(message)
        expect(r.stderr.trim().split('\n')).toHaveLength(1)
      }
    }
  }, 120_000)

  it('more threads guessed than tests: the prestarted pool is used (its extra threads idle), the run lists only its lanes', async () => {
    const dir = tempDir()
    write(dir, 'suite/test_only.sh', 'printf "%s" "$CLAIMRUN_WORKER" > seen\n')
    for (let round = 0; round < 4; round++) {
      const r = await runCli(['run', 'suite', '--workers', '3', '--no-history', '--out', join(dir, 'out')], { cwd: dir })
      expect({ round, code: r.code, signal: r.signal }, r.stderr).toEqual({ round, code: 0, signal: null })
      const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { workers: string[]; counts: { passed: number } }
      expect(results.workers).toEqual(['worker01'])
      expect(results.counts.passed).toBe(1)
      expect(readFileSync(join(dir, 'seen'), 'utf8')).toBe('worker01')
    }
  }, 120_000)

  it('a guess with too few threads (the config file asks for more): that pool is ended once booted, a new one runs every lane', async () => {
    const dir = tempDir()
    for (let i = 1; i <= 5; i++) write(dir, `suite/test_${i}.sh`, 'printf "%s\\n" "$CLAIMRUN_WORKER" >> seen\n')
    write(dir, 'claimrun.config.json', JSON.stringify({ workers: 5 }))
    // Ending a pool while its threads still load the worker module aborted the process (V8 fatal,
    // SIGABRT) about one time in six: several rounds, each must end by its exit code.
    for (let round = 0; round < 6; round++) {
      const r = await runCli(['run', 'suite', '--no-history', '--out', join(dir, 'out')], { cwd: dir })
      expect({ round, code: r.code, signal: r.signal }, r.stderr).toEqual({ round, code: 0, signal: null })
      const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { workers: string[]; counts: { passed: number } }
      expect(results.workers).toEqual(['worker01', 'worker02', 'worker03', 'worker04', 'worker05'])
      expect(results.counts.passed).toBe(5)
    }
  }, 120_000)
})
