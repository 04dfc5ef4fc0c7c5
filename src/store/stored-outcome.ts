import type { TestResult } from '../vocab/types.js'

/**
 * An outcome as a shared store keeps it: times absolute (each machine's run starts at its own
 * moment), no local file path, and the node that ran it. The only place the wire format is made
 * (`toStored`, by the runner that publishes) and read (`fromStored`, by `claimrun report`).
 */
export type StoredOutcome = Omit<TestResult, 'file'> & { node?: string; startAt: number | null; endAt: number | null }

export function toStored(result: TestResult, t0: number, node: string): StoredOutcome {
  const { file: _file, ...rest } = result
  const at = (ms: number | null): number | null => (ms === null ? null : Math.round(t0 + ms))
  return { ...rest, node, startAt: at(result.startMs), endAt: at(result.endMs) }
}

/** Back to a result with times relative to `t0` (the combined run's start). */
export function fromStored(id: string, stored: StoredOutcome, t0: number): TestResult {
  const { node: _node, startAt, endAt, ...rest } = stored
  const rel = (at: number | null): number | null => (at === null ? null : Math.round((at - t0) * 10) / 10)
  return { ...rest, id, file: id, startMs: rel(startAt), endMs: rel(endAt) }
}
