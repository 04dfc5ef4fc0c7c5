import { describe, expect, it } from 'vitest'
import { describeEnd, exitCodeOf, isPassing, statusOfEnd, tally, VERDICT } from '../../dist/src/record/outcome.js'
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
