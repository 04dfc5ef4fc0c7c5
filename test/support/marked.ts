import { readdirSync, readFileSync } from 'node:fs'
import { onTestFinished } from 'vitest'

/**
 * A marker for one test: put in the CLI's environment, it is inherited by everything the run starts
 * (its tests, setup, teardown and all they start), so `left()` finds what is still running by
 * /proc/<pid>/environ, whatever its process group. Whatever is left when the test ends is killed.
 */
export function marked(): { env: Record<string, string>; left: () => number[] } {
  const entry = `CLAIMRUN_TEST_MARK=${process.pid}-${Math.random().toString(36).slice(2)}`
  const needle = Buffer.from(`\0${entry}\0`)
  const left = (): number[] => {
    const found: number[] = []
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'latin1')
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue
        if (Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${name}/environ`)]).includes(needle)) found.push(Number(name))
      } catch {
        // exited meanwhile, or not ours to read
      }
    }
    return found
  }
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
