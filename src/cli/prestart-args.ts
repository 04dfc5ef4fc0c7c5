import { readdirSync, statSync } from 'node:fs'
import { DEFAULTS } from '../options/defaults.js'
import { isBailValue } from './bail-arg.js'

/** `run` options that take a value (the next argument, or `--opt=value`). */
const TAKES_VALUE = new Set([
  '-w', '--workers', '--cmd', '--pattern', '--out', '--timeout', '--kill-grace', '--max-output', '--history', '--order',
  '--seed', '--retries', '--shard', '--slow', '--junit', '--html', '--store', '--run-id', '--node', '--lease', '--ttl',
  '--summary', '--grep', '--exclude', '--setup', '--teardown', '--config',
])
/** Options whose value is optional: commander takes the next argument unless it starts with '-' (--bail: only a number, see bail-arg.ts). */
const OPTIONAL_VALUE = new Set(['--bail', '--json'])
/** Options after which the threads must be made differently (--env sets their process.env) or are never used. */
const NO_PRESTART = new Set(['-h', '--help', '--env', '--list'])

/**
 * How many worker threads `claimrun run <argv>` will surely use, read from the arguments before
 * commander is even loaded (see cli/bin.ts): `--workers` (default 3), or fewer when every path is a
 * file and there are fewer files. 0 for anything unusual (help, --env, --list, an odd value):
 * then nothing is prestarted and the run starts its threads itself, as it always could. A wrong
 * guess costs time, never correctness: the run adopts the prestarted pool only if it fits.
 */
export function prestartLanes(argv: readonly string[], cwd: string): { threads: number; max: number } | null {
  if (argv[0] !== 'run') return null
  let workers: number = DEFAULTS.workers
  const paths: string[] = []
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string
    if (NO_PRESTART.has(arg.replace(/=.*$/, ''))) return null
    if (arg === '--') {
      paths.push(...argv.slice(i + 1))
      break
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const name = eq > 0 ? arg.slice(0, eq) : arg.startsWith('-w') && arg.length > 2 ? '-w' : arg
    const inline = eq > 0 ? arg.slice(eq + 1) : name === '-w' && arg.length > 2 ? arg.slice(2) : undefined
    if (OPTIONAL_VALUE.has(name)) {
      if (inline === undefined && argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith('-') && (name !== '--bail' || isBailValue(argv[i + 1]))) i++
      continue
    }
    if (TAKES_VALUE.has(name)) {
      const value = inline ?? argv[++i]
      if (value === undefined) return null
      if (name === '-w' || name === '--workers') {
        workers = Number(value)
        if (!Number.isSafeInteger(workers) || workers < 1 || workers > 64) return null
      }
      continue
    }
    if (arg.startsWith('-')) continue
    paths.push(arg)
  }
  // No path: test/, or what a config file names; the guess is --workers.
  if (paths.length === 0) return { threads: workers, max: workers }
  let files = 0
  for (const p of paths) {
    const path = p.startsWith('/') ? p : `${cwd}/${p}`
    try {
      files += statSync(path).isFile() ? 1 : filesUpTo(path, workers - files)
    } catch {
      return null
    }
    if (files >= workers) break
  }
  const threads = Math.min(workers, files)
  return threads > 0 ? { threads, max: workers } : null
}

/**
 * How many files a folder holds, counted only up to `limit`: a bound on its tests (every test is a
 * file in it), so that a folder of one test does not boot three threads (~40 ms of a 2-core
 * machine's start-up). A symbolic link may lead to more: it counts as the limit.
 */
function filesUpTo(dir: string, limit: number): number {
  let count = 0
  const folders = [dir]
  while (folders.length > 0) {
    const folder = folders.pop() as string
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isSymbolicLink()) return limit
      if (entry.isDirectory()) folders.push(`${folder}/${entry.name}`)
      else if (++count >= limit) return limit
    }
  }
  return count
}
