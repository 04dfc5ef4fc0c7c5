import { formatMs } from './format.js'
import type { TestResult } from '../vocab/types.js'

/** ` (waited 1.2 s for group db)` for a test that waited for its needs with a worker free; '' otherwise. */
export const waitedNote = (t: Pick<TestResult, 'waitMs' | 'waitedFor'>): string =>
  t.waitMs ? ` (waited ${formatMs(t.waitMs).trim()} for ${t.waitedFor ?? 'capacity'})` : ''
