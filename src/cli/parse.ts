import { InvalidArgumentError, Option } from 'commander'
import { SUMMARY_MODES } from '../reporters/summary.js'
import { say } from './guards.js'

/** commander's parser for numeric flags: the value or a one-line complaint. */
export function number(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number.')
  return n
}

/** `--summary`, shared by run, show and report. */
export function summaryOption(): Option {
  return new Option('--summary <mode>', 'the per-test table in the terminal: auto (small runs, ≤ 30 tests), full, short (never; only failures and progress lines while running)')
    .choices(SUMMARY_MODES)
    .default('auto')
}

export function warn(messages: string[]): void {
  for (const m of messages) say(`claimrun: ${m}\n`)
}
