import { countStatuses } from './outcome.js'
import { claimrunVersion } from './versions.js'
import type { RunResult, TestResult } from '../vocab/types.js'

export interface RunFacts {
  startedAt: string
  /** When the outcomes were settled. @default now */
  finishedAt?: string | undefined
  durationMs: number
  workers: string[]
  tests: TestResult[]
  order: RunResult['order']
  shard?: string | undefined
  bailed?: boolean | undefined
  interrupted?: string | undefined
  warnings?: string[] | undefined
  internalErrors?: string[] | undefined
  exitCode: number
  out: string
}

/** The one builder of a RunResult (a local run, and `claimrun report`): counts from the outcome model, empty extras left out. */
export function buildRunResult(f: RunFacts): RunResult {
  return {
    version: 1,
    claimrunVersion: claimrunVersion(),
    nodeVersion: process.version,
    startedAt: f.startedAt,
    finishedAt: f.finishedAt ?? new Date().toISOString(),
    durationMs: f.durationMs,
    workers: f.workers,
    tests: f.tests,
    counts: countStatuses(f.tests),
    order: f.order,
    ...(f.shard ? { shard: f.shard } : {}),
    ...(f.bailed ? { bailed: true } : {}),
    ...(f.interrupted ? { interrupted: f.interrupted } : {}),
    ...(f.warnings?.length ? { warnings: f.warnings } : {}),
    ...(f.internalErrors?.length ? { internalErrors: f.internalErrors } : {}),
    exitCode: f.exitCode,
    out: f.out,
  }
}
