import { afterAll, beforeAll } from 'vitest'

/** Both ways a run can fork its tests (CLAIMRUN_SPAWNER, docs/design/spawner.md): behaviours that depend on it run on both. */
export const FORK_PATHS = [
  { path: 'off', name: 'forked by their lane' },
  { path: 'always', name: 'forked by the spawner' },
] as const

/**
 * Sets CLAIMRUN_SPAWNER for the tests of the enclosing describe: run() reads it, and every CLI a
 * test starts inherits it.
 */
export function onForkPath(path: string): void {
  let before: string | undefined
  beforeAll(() => {
    before = process.env.CLAIMRUN_SPAWNER
    process.env.CLAIMRUN_SPAWNER = path
  })
  afterAll(() => {
    if (before === undefined) delete process.env.CLAIMRUN_SPAWNER
    else process.env.CLAIMRUN_SPAWNER = before
  })
}
