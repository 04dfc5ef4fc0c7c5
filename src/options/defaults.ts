/**
 * Every default of claimrun in one object: the API, the CLI's help and the store read them here,
 * so a default is changed in one place and the help never disagrees with what runs.
 */
export const DEFAULTS = {
  /** Worker threads (lanes) of a run. */
  workers: 3,
  /** A run's output folder, relative to its cwd. */
  out: '.claimrun/last-run',
  /** `claimrun report`'s output folder. */
  reportOut: '.claimrun/report',
  /** History of durations and outcomes, relative to the cwd. */
  history: '.claimrun/history.json',
  /** Seconds between SIGTERM and SIGKILL when a test is ended. */
  killGraceS: 5,
  /** Bytes of output kept in a worker log per test. */
  maxOutput: 50 * 1024 * 1024,
  /** Seconds after which a running test is announced as slow. */
  slowS: 30,
  order: 'smart',
  /** Seconds a claim in a shared store stays valid without renewal. */
  leaseS: 30,
  /** Seconds a shared run's keys live in the store. */
  ttlS: 24 * 3600,
  /** `claimrun generate`: the demo suite. */
  generate: { count: 20, failures: 3, minMs: 100, maxMs: 2000, seed: 1, lang: 'js' },
} as const
