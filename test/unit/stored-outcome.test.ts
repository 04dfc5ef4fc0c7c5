import { describe, expect, it } from 'vitest'
import { fromStored, toStored } from '../../dist/src/store/stored-outcome.js'
import type { Status, TestResult } from 'claimrun'

const result = (id: string, status: Status, worker: string | null, durationMs: number | null = 10): TestResult => ({
  id, file: `/abs/${id}`, worker, status, exitCode: status === 'failed' ? 1 : 0, signal: null, startMs: 0, endMs: durationMs, durationMs, attempts: 1, outputBytes: 0, tail: '',
})

describe('the stored outcome', () => {
  it('round-trips through the wire format with absolute times and no local path', () => {
    const r = { ...result('t/a.sh', 'passed', 'n1/worker01'), startMs: 100, endMs: 250, durationMs: 150 }
    const stored = toStored(r, 1_000_000, 'n1')
    expect(stored).toMatchObject({ node: 'n1', startAt: 1_000_100, endAt: 1_000_250 })
    expect(stored).not.toHaveProperty('file')
    expect(fromStored('t/a.sh', stored, 1_000_050)).toMatchObject({ id: 't/a.sh', file: 't/a.sh', startMs: 50, endMs: 200, durationMs: 150, status: 'passed' })
  })
})
