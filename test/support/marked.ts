import { readFileSync } from 'node:fs'
import { onTestFinished } from 'vitest'
import { livePids } from './witness.js'

/**
 * A marker for one test: put in the CLI's environment, it is inherited by everything the run starts
 * (its tests, setup, teardown and all they start), so `left()` finds what is still running by
 * /proc/<pid>/environ, whatever its process group. Whatever is left when the test ends is killed.
 */
export function marked(): { env: Record<string, string>; left: () => number[] } {
  const entry = `CLAIMRUN_TEST_MARK=${process.pid}-${Math.random().toString(36).slice(2)}`
  const needle = Buffer.from(`\0${entry}\0`)
  const left = (): number[] => livePids((pid) => Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${pid}/environ`)]).includes(needle))
  onTestFinished(() => {
    for (const pid of left()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone
      }
    }
  })
  const [key = '', value = ''] = entry.split('=')
  return { env: { [key]: value }, left }
}
