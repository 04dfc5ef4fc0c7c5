import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { estimateWithWait, loadHistory, mergeHistory, type History } from '../../dist/src/record/history.js'
import type { TestResult } from '../../dist/src/vocab/types.js'

/** A finished test's result, as a run records it; `wait` is [ms, what it waited for]. */
function result(id: string, durationMs: number, wait?: [number, string]): TestResult {
  return {
    id, file: id, worker: 'worker01', status: 'passed', exitCode: 0, signal: null, startMs: 0, endMs: durationMs, durationMs, attempts: 1, tail: '',
    ...(wait ? { waitMs: wait[0], waitedFor: wait[1] } : {}),
  } as TestResult
}

const runs = (history: History, ...each: TestResult[][]): History => each.reduce((h, tests) => mergeHistory(h, tests, '2026-12-07T00:00:00Z'), history)
const empty = (): History => ({ version: 1, tests: {} })

describe('the history keeps the waits a test\'s own needs cost it', () => {
  it('records a wait for a group or capacity beside the duration, and counts it in the estimate', () => {
    const h = runs(empty(), [result('db2', 100, [300, 'group db']), result('heavy', 200, [50, 'capacity'])])
    expect(h.tests.db2).toMatchObject({ avgMs: 100, recentMs: [100], avgWaitMs: 300, recentWaitMs: [300] })
    expect(h.tests.heavy).toMatchObject({ avgWaitMs: 50, recentWaitMs: [50] })
    expect(estimateWithWait(h.tests.db2!)).toBe(400)
  })

  it('does not count a wait behind a heavier test\'s reservation: that wait was not its own', () => {
    const h = runs(empty(), [result('light', 100, [700, 'a heavier test'])])
    expect(h.tests.light).not.toHaveProperty('avgWaitMs')
    expect(estimateWithWait(h.tests.light!)).toBe(100)
  })

  it('keeps the waits aligned with the durations: runs before the first wait count as 0, and the fields go after five runs without one', () => {
    let h = runs(empty(), [result('t', 100)], [result('t', 100)])
    expect(h.tests.t).not.toHaveProperty('recentWaitMs')
    h = runs(h, [result('t', 100, [600, 'group db'])])
    expect(h.tests.t).toMatchObject({ recentMs: [100, 100, 100], recentWaitMs: [0, 0, 600], avgWaitMs: 200 })
    h = runs(h, ...Array.from({ length: 4 }, () => [result('t', 100)]))
    expect(h.tests.t).toMatchObject({ recentWaitMs: [600, 0, 0, 0, 0], avgWaitMs: 120 })
    h = runs(h, [result('t', 100)])
    expect(h.tests.t).not.toHaveProperty('recentWaitMs')
    expect(h.tests.t).not.toHaveProperty('avgWaitMs')
  })

  it('records no wait for a test cut short (no duration either)', () => {
    const h = runs(empty(), [result('db', 100, [300, 'group db'])], [{ ...result('db', 0, [900, 'group db']), status: 'notrun', durationMs: null } as TestResult])
    expect(h.tests.db).toMatchObject({ recentMs: [100], recentWaitMs: [300] })
  })
})

describe('a history file written by another version', () => {
  it('keeps an entry whose wait fields it cannot read, without them, and the rest of the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'claimrun-history-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'history.json')
    const entry = { avgMs: 100, recentMs: [100], lastStatus: 'passed', lastRunAt: '2026-12-07T00:00:00Z' }
    writeFileSync(file, JSON.stringify({ version: 1, tests: { odd: { ...entry, avgWaitMs: null, recentWaitMs: 'x' }, fine: { ...entry, avgWaitMs: 50, recentWaitMs: [50] } } }))
    const { history, warning } = loadHistory(file)
    expect(warning).toBeUndefined()
    expect(history.tests.odd).toEqual(entry)
    expect(history.tests.fine).toMatchObject({ avgWaitMs: 50, recentWaitMs: [50] })
  })
})
