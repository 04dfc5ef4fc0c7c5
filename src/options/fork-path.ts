import { ClaimrunError } from '../vocab/errors.js'

/**
 * Who forks the tests of a run, chosen once per run (docs/design/spawner.md):
 * `off`: each lane forks its tests from its own thread; `always`: the run's spawner process forks
 * them (lanes wait for it, and fork themselves only if it fails or stalls); `auto`: whichever pays
 * on this runtime (`forkPathFor`).
 */
export type ForkPath = 'off' | 'always' | 'auto'

export const FORK_PATHS: readonly ForkPath[] = ['off', 'always', 'auto']

/** The environment variable that sets it when the run's options do not. */
export const FORK_PATH_VAR = 'CLAIMRUN_SPAWNER'

/** The run's fork path: the option if given, else CLAIMRUN_SPAWNER, else `auto`. Read once, at the public entry. */
export function parseForkPath(option: unknown, env: NodeJS.ProcessEnv = process.env): ForkPath {
  const [value, from] = option !== undefined ? [option, 'the spawner option'] : [env[FORK_PATH_VAR], FORK_PATH_VAR]
  if (value === undefined || value === '') return 'auto'
  if (typeof value === 'string' && (FORK_PATHS as readonly string[]).includes(value)) return value as ForkPath
  throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${from} must be one of ${FORK_PATHS.join(', ')} (received ${JSON.stringify(value)}); unset it for auto`)
}

/**
 * What `auto` means for a run (docs/design/spawner.md has the measurements): the spawner saves CPU
 * on every test on Node 20 to 24 alike, but costs its boot and the lanes' wait for it, and each test
 * one more hop between processes; so only a run of AUTO_SPAWNER_TESTS or more tests goes through it.
 */
export function forkPathOfRun(mode: ForkPath, tests: number): 'lane' | 'spawner' {
  if (mode === 'always') return 'spawner'
  if (mode === 'off') return 'lane'
  return tests >= AUTO_SPAWNER_TESTS ? 'spawner' : 'lane'
}

/** From this many tests, `auto` forks through the spawner (docs/design/spawner.md). */
export const AUTO_SPAWNER_TESTS = 100
