import { availableParallelism } from 'node:os'
import { MAX_LANES } from '../claim/board.js'
import { badOption } from '../vocab/errors.js'

/**
 * Each worker lane is a thread with its own V8 heap plus the test process it runs (the memory
 * a lane costs: docs/design/memory.md); past a few lanes per CPU the tests only queue for the CPU. Beyond this many lanes per CPU
 * (and beyond WARN_FLOOR lanes) a run says so, with the reason.
 */
export const LANES_PER_CPU_WARN = 4
const WARN_FLOOR = 16

/** `--workers`: a whole number from 1 to MAX_LANES, or `auto` (the CPUs this process may use). */
export function parseWorkers(value: unknown): number {
  if (value === 'auto') return availableParallelism()
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LANES) {
    throw badOption('--workers', value, `a whole number from 1 to ${MAX_LANES}, or auto (${availableParallelism()} here: the CPUs available)`)
  }
  return n
}

/** A warning for a lane count far beyond the machine, with the reason and the fix; undefined when fine. */
export function workersWarning(lanes: number): string | undefined {
  const cpus = availableParallelism()
  if (lanes <= Math.max(WARN_FLOOR, LANES_PER_CPU_WARN * cpus)) return undefined
  return `${lanes} worker threads on ${cpus} CPUs: each lane costs a thread (about 9 MiB) and a test process, and past ${LANES_PER_CPU_WARN} per CPU tests only wait for the CPU; use --workers auto or fewer`
}
