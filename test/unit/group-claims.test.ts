import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createBoard, markDone } from '../../dist/src/claim/board.js'
import { claimWithNeeds, createNeedsBoard, fitMask, releaseLaneNeeds, releaseNeeds, usage, waitOf, WHY_GROUP, WHY_RESERVED } from '../../dist/src/claim/groups.js'
import { parseHeaderLine, readHeaders } from '../../dist/src/plan/needs-header.js'
import { orderByNeeds } from '../../dist/src/plan/needs-order.js'

type Test = { weight?: number; groups?: number[]; estimateMs?: number | null }

/** A claim board and its needs board for these tests, in plan order. */
function boards(tests: Test[], groupMax: number[], capacity: number, lanes = capacity) {
  const board = createBoard(tests.length, lanes)
  const needs = createNeedsBoard({
    tests: tests.map((t) => ({ weight: t.weight ?? 1, groups: t.groups ?? [], estimateMs: t.estimateMs ?? null })),
    groupMax,
    capacity,
    lanes,
  })
  return { board, needs, claim: (lane: number) => claimWithNeeds(board, needs, lane) }
}

describe('the header line', () => {
  it('is found in any comment style within the first 20 lines, and its words combine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'claimrun-headers-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const files = {
      'a.sh': '#!/bin/sh\n# claimrun: group=db,port8080 weight=2\n',
      'b.js': '// claimrun: serial\n',
      'c.sql': '-- claimrun: group=db\n',
      'd.lisp': ';; claimrun: weight=3 group=x\n',
      'e.py': '\n'.repeat(20) + '# claimrun: serial\n',
      'f.txt': 'no header here, though claimrun: is named\n',
    }
    const tests = Object.entries(files).map(([name, body]) => {
      writeFileSync(join(dir, name), body)
      return { id: name, file: join(dir, name) }
    })
    expect(readHeaders(tests)).toEqual([
      { groups: ['db', 'port8080'], weight: 2, serial: false, line: 2 },
      { groups: [], serial: true, line: 1 },
      { groups: ['db'], serial: false, line: 1 },
      { groups: ['x'], weight: 3, serial: false, line: 1 },
      null,
      null,
    ])
  })

  it('names the file, the line and the fix for a word it does not know', () => {
    expect(() => parseHeaderLine(' group=db retries=2', 't/x.sh', 4)).toThrow(/^t\/x\.sh line 4: unknown claimrun: key "retries=2"/)
    expect(() => parseHeaderLine(' weight=two', 't/x.sh', 1)).toThrow(/weight must be a whole number of 1 or more/)
  })
})

describe('a claim with needs', () => {
  it('passes over a test whose group is full and takes the next one in order', () => {
    const { board, needs, claim } = boards([{ groups: [0] }, { groups: [0] }, {}], [1], 3)
    expect(claim(1)).toBe(0)
    expect(claim(2)).toBe(2)
    expect(claim(3)).toBe(-1)
    expect(waitOf(needs, 1)).toMatchObject({ why: WHY_GROUP + 0 })
    releaseNeeds(board, needs, 1)
    markDone(board, 0, 1)
    expect(claim(1)).toBe(1)
    expect(usage(needs)).toEqual({ used: 2, groups: [1] })
  })

  it('takes all of a test\'s groups or none: a test in two groups never holds one while it waits for the other', () => {
    const { needs, claim } = boards([{ groups: [1] }, { groups: [0, 1] }, { groups: [0] }], [1, 1], 3)
    expect(claim(1)).toBe(0)
    // The second test needs group 1, which is full: it takes nothing, so group 0 stays free for the third.
    expect(claim(2)).toBe(2)
    expect(usage(needs).groups).toEqual([1, 1])
  })

  it('keeps capacity for a heavy test next in order: without estimates nothing starts past it', () => {
    const { board, needs, claim } = boards([{}, { weight: 3 }, {}, {}], [], 3)
    expect(claim(1)).toBe(0)
    expect(claim(2)).toBe(-1)
    expect(waitOf(needs, 2).why).toBe(WHY_RESERVED)
    releaseNeeds(board, needs, 1)
    markDone(board, 0, 1)
    expect(claim(2)).toBe(1)
  })

  it('with estimates, lets in only the tests that end before the heavy test could start (backfilling)', () => {
    const { claim } = boards([{ estimateMs: 60_000 }, { weight: 3, estimateMs: 1000 }, { estimateMs: 120_000 }, { estimateMs: 10 }], [], 3)
    expect(claim(1)).toBe(0)
    // The third would run past the first's expected end, when the heavy test is due: passed over.
    expect(claim(2)).toBe(3)
  })

  describe('names what held a waiting test longest: its own needs or a heavier test\'s reservation', () => {
    /** Lets the clock move: a wait is attributed by the time that passed under each reason. */
    const elapse = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
    // Slots: 0 in group g, 1 free, 2 of weight 3 (the whole capacity), 3 in group g. Lanes 1 and 2 take 0 and 1.
    const scene = () => {
      const b = boards([{ groups: [0] }, {}, { weight: 3 }, { groups: [0] }], [1], 3)
      expect([b.claim(1), b.claim(2)]).toEqual([0, 1])
      const end = (lane: number, slot: number): void => {
        releaseNeeds(b.board, b.needs, lane)
        markDone(b.board, slot, lane)
      }
      return { ...b, end }
    }

    it('passed over for its group at once, then for long behind the heavy test: the heavier test', () => {
      const { claim, needs, end } = scene()
      expect(claim(3)).toBe(-1) // slot 3: group g full (slot 0 runs)
      end(1, 0)
      expect(claim(1)).toBe(-1) // slot 3: group free now, but capacity is kept for slot 2
      expect(waitOf(needs, 3).why).toBe(WHY_RESERVED)
      elapse(400)
      end(2, 1)
      expect(claim(1)).toBe(2)
      end(1, 2)
      expect(claim(1)).toBe(3)
      expect(waitOf(needs, 3).why).toBe(WHY_RESERVED)
      expect(waitOf(needs, 3).ms).toBeGreaterThanOrEqual(400)
    })

    it('passed over for long for its group, then behind the heavy test at once: its group', () => {
      const { claim, needs, end } = scene()
      expect(claim(3)).toBe(-1) // slot 3: group g full
      elapse(400)
      end(1, 0)
      end(2, 1)
      expect(claim(1)).toBe(2)
      end(1, 2)
      expect(claim(1)).toBe(3)
      expect(waitOf(needs, 3)).toMatchObject({ why: WHY_GROUP + 0 })
      expect(waitOf(needs, 3).ms).toBeGreaterThanOrEqual(400)
    })
  })

  it('describes the same rules to a shared run\'s store: each reservation\'s class, and which tests may start beside it', () => {
    // Capacity 4. Slot 0 (weight 2, group g) runs, expected to take a minute. Slots 1 and 2 (weights
    // 3 and 4) wait for it: classes A and B, both due in a minute, with one slot spare then for A and
    // none for B. Slot 3 would run past the minute (beside A only, in its spare slot); slot 4 ends long
    // before (beside either); slot 5 (weight 2) would run past it and fits in no spare capacity.
    const { needs, claim } = boards(
      [{ weight: 2, groups: [0], estimateMs: 60_000 }, { weight: 3 }, { weight: 4 }, { estimateMs: 120_000 }, { estimateMs: 10 }, { weight: 2, estimateMs: 120_000 }],
      [1],
      4,
    )
    expect(claim(1)).toBe(0)
    const full: Array<[number, number]> = []
    expect(fitMask(needs, (slot, group) => full.push([slot, group]))).toBe('gAB1.0')
    expect(full).toEqual([[0, 0]])
  })

  it('gives a dead lane\'s needs back from the main thread', () => {
    const { board, needs, claim } = boards([{ groups: [0], weight: 2 }, { groups: [0] }], [1], 3)
    expect(claim(1)).toBe(0)
    expect(claim(2)).toBe(-1)
    releaseLaneNeeds(board, needs, 1)
    expect(usage(needs)).toEqual({ used: 0, groups: [0] })
  })
})

describe('the smart order with needs', () => {
  const entry = (avgMs: number) => ({ avgMs, recentMs: [avgMs], lastStatus: 'passed' as const, lastRunAt: '' })
  const needsOf = (groups: string[], serial = false) => ({ groups, weight: serial ? 4 : 1, serial, from: [] })

  it('counts a group\'s tests as one job (their work over max), puts serial tests first, and keeps longest first otherwise', () => {
    const tests = ['long', 'db1', 'db2', 'db3', 'short', 'alone'].map((id) => ({ id }))
    const history = { version: 1 as const, tests: { long: entry(900), db1: entry(300), db2: entry(400), db3: entry(350), short: entry(100), alone: entry(200) } }
    const needs = {
      tests: [needsOf([]), needsOf(['db']), needsOf(['db']), needsOf(['db']), needsOf([]), needsOf([], true)],
      groups: [{ name: 'db', max: 1, scope: 'machine' as const }],
      capacity: 4,
    }
    const ordered = orderByNeeds(tests, needs, history)
    // The db chain is 1050 ms of work on one slot: longer than the 900 ms test; in it, longest first.
    expect(ordered.tests.map((t) => t.id)).toEqual(['alone', 'db2', 'db3', 'db1', 'long', 'short'])
    expect(ordered.needs.map((n) => n.groups)).toEqual([[], ['db'], ['db'], ['db'], [], []])
    expect(ordered.ranks.map((r) => r.by)).toEqual(['serial', 'group', 'group', 'group', 'own', 'own'])
  })

  it('orders the tests without history by the same rules, each assumed as long as the others: serial, then a long chain, then heavy', () => {
    const tests = ['free1', 'heavy', 'db1', 'db2', 'db3', 'alone', 'free2'].map((id) => ({ id }))
    const needs = {
      tests: [needsOf([]), { ...needsOf([]), weight: 2 }, needsOf(['db']), needsOf(['db']), needsOf(['db']), needsOf([], true), needsOf([])],
      groups: [{ name: 'db', max: 1, scope: 'machine' as const }],
      capacity: 4,
    }
    const ordered = orderByNeeds(tests, needs, { version: 1, tests: {} })
    // The db chain counts 3 tests' time, the weight-2 test twice one test's.
    expect(ordered.tests.map((t) => t.id)).toEqual(['alone', 'db1', 'db2', 'db3', 'heavy', 'free1', 'free2'])
    expect(ordered.ranks.map((r) => r.by)).toEqual(['serial', 'group', 'group', 'group', 'weight', 'own', 'own'])
  })

  it('counts a heavy test as its weight times its estimate, and a test as its estimate plus its recent waits for its needs', () => {
    const tests = ['long', 'heavy', 'waiter', 'short'].map((id) => ({ id }))
    const history = {
      version: 1 as const,
      tests: { long: entry(900), heavy: entry(400), waiter: { ...entry(100), avgWaitMs: 2000, recentWaitMs: [2000] }, short: { ...entry(300), avgWaitMs: 0 } },
    }
    const needs = {
      tests: [needsOf([]), { ...needsOf([]), weight: 3 }, needsOf(['port']), needsOf([])],
      groups: [{ name: 'port', max: 1, scope: 'machine' as const }],
      capacity: 4,
    }
    const ordered = orderByNeeds(tests, needs, history)
    // waiter: 100 + 2000 ms; heavy: 3 × 400 ms; long: 900 ms; short: 300 ms.
    expect(ordered.tests.map((t) => t.id)).toEqual(['waiter', 'heavy', 'long', 'short'])
    expect(ordered.ranks).toEqual([{ ms: 2100, by: 'wait' }, { ms: 1200, by: 'weight' }, { ms: 900, by: 'own' }, { ms: 300, by: 'own' }])
  })
})
