import type { DeathPlan } from '../src/lanes/protocol.js'

/**
 * Test-only: ends this worker thread the way a real fault would, so the tests can prove that a
 * dying worker loses no test and leaves no process behind. Reached only through the internal
 * `die` task field, which the public API does not expose.
 */
export function dieNow(how: DeathPlan['how']): void {
  if (how === 'exit') process.exit(70)
  if (how === 'throw') {
    setImmediate(() => {
      throw new Error('claimrun test hook: uncaught exception in worker')
    })
    return
  }
  const hog: number[][] = []
  for (;;) hog.push(new Array(1 << 20).fill(hog.length))
}
