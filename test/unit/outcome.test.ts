import { describe, expect, it } from 'vitest'
import { describeEnd, exitCodeOf, isPassing, statusOfEnd, tally, VERDICT } from '../../dist/src/record/outcome.js'
import { RunStateMachine } from '../../dist/src/lanes/run-state.js'
import { runOptionsFromFlags } from '../../dist/src/cli/run-options.js'
import { fromStored, toStored } from '../../dist/src/store/stored-outcome.js'
import type { Status, TestResult } from 'claimrun'

const result = (id: string, status: Status, worker: string | null, durationMs: number | null = 10): TestResult => ({
  id, file: `/abs/${id}`, worker, status, exitCode: status === 'failed' ? 1 : 0, signal: null, startMs: 0, endMs: durationMs, durationMs, attempts: 1, outputBytes: 0, tail: '',
})

describe('the outcome model', () => {
  it('every status has one verdict; the tally adds up per verdict and per worker', () => {
    expect(VERDICT).toEqual({ passed: 'passed', flaky: 'passed', failed: 'failed', timedout: 'failed', error: 'failed', interrupted: 'skipped', notrun: 'skipped' })
    const tests = [result('a', 'passed', 'w1'), result('b', 'flaky', 'w1'), result('c', 'failed', 'w2'), result('d', 'timedout', 'w2'), result('e', 'error', 'w1'),
      result('f', 'interrupted', 'w2'), result('g', 'notrun', null, null)]
    const t = tally({ workers: ['w1', 'w2'], tests })
    expect({ passed: t.passed, failed: t.failed, skipped: t.skipped, total: t.total }).toEqual({ passed: 2, failed: 3, skipped: 2, total: 7 })
    expect(t.workers).toEqual({ w1: { tests: 3, passed: 2, failed: 1, skipped: 0, busyMs: 30 }, w2: { tests: 3, passed: 0, failed: 2, skipped: 1, busyMs: 30 } })
  })

  it('one rule from a process end to a status, and from a run to its exit code', () => {
    expect(statusOfEnd({ timedOut: false, exitCode: 0 }, false)).toBe('passed')
    expect(statusOfEnd({ timedOut: false, exitCode: 0, tapProblems: ['1 of 2 sub-tests failed'] }, false)).toBe('failed')
    expect(statusOfEnd({ timedOut: false, exitCode: 3 }, true)).toBe('interrupted')
    expect(statusOfEnd({ timedOut: true, exitCode: null }, false)).toBe('timedout')
    expect(statusOfEnd({ spawnError: 'x: not found (ENOENT)', timedOut: false, exitCode: null }, false)).toBe('error')
    expect(isPassing('flaky')).toBe(true)
    expect(isPassing('flaky', true)).toBe(false)
    expect(exitCodeOf([{ status: 'passed' }, { status: 'flaky' }], undefined)).toBe(0)
    expect(exitCodeOf([{ status: 'flaky' }], undefined, true)).toBe(1)
    expect(exitCodeOf([{ status: 'passed' }], 'SIGINT')).toBe(130)
    expect(exitCodeOf([{ status: 'passed' }], 'SIGTERM')).toBe(143)
    expect(describeEnd({ status: 'failed', exitCode: 2, signal: null, attempts: 1 })).toBe('failed (exit 2)')
    expect(describeEnd({ status: 'failed', exitCode: null, signal: 'SIGKILL', attempts: 1 })).toBe('killed by SIGKILL')
    expect(describeEnd({ status: 'flaky', exitCode: 0, signal: null, attempts: 2 })).toBe('passed on attempt 2 (flaky)')
  })
})

describe('the run state machine', () => {
  it('allows only the moves in its table', () => {
    const s = new RunStateMachine()
    expect(s.to('finished')).toBe(false)
    expect(s.to('bailed')).toBe(true)
    expect(s.claiming).toBe(false)
    expect(s.to('bailed')).toBe(false)
    expect(s.to('stopping')).toBe(true)
    expect(s.to('bailed')).toBe(false)
    expect(s.to('finishing')).toBe(true)
    expect(s.to('stopping')).toBe(false)
    expect(s.to('finished')).toBe(true)
    expect(s.state).toBe('finished')
  })
})

describe('the CLI flags → options function', () => {
  it('maps flags to the API options, leaving out what was not given', () => {
    const o = runOptionsFromFlags(['t'], { workers: 2, out: 'o', killGrace: 5, maxOutput: 9, slow: 30, history: false, order: 'given', bail: true, tap: false, json: 'r.json', env: ['A=1', 'B=x=y'], grep: [] })
    expect(o).toEqual({ paths: ['t'], workers: 2, out: 'o', killGrace: 5, maxOutput: 9, slow: 30, history: false, order: 'given', bail: 1, tap: false, json: 'r.json', env: { A: '1', B: 'x=y' } })
    expect(() => runOptionsFromFlags(['t'], { env: ['NOEQUALS'] })).toThrow(/--env must be KEY=VALUE/)
  })
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
