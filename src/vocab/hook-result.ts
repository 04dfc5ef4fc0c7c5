/**
 * How a `--setup` or `--teardown` command ended, and the words every report uses for it (the
 * run's error line, JUnit, the GitHub annotation): kept below the lanes so reporters can read it.
 */

/** How a `--setup` or `--teardown` command ended (in the result as `setup` / `teardown`). */
export interface HookResult {
  command: string[]
  status: 'passed' | 'failed' | 'error' | 'interrupted'
  exitCode: number | null
  signal: string | null
  /** Could not start: not found, permission denied. */
  error?: string
  durationMs: number
  /** Its output, relative to the out folder. */
  log: 'setup.log' | 'teardown.log'
}

/** A command as one would type it again: tokens quoted only where a shell would need it. */
export const showCommand = (argv: string[]): string =>
  argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')

/** How a hook ended, in a few words: "exit 1", "killed by SIGTERM", "not found (ENOENT)". */
export const hookEnding = (h: HookResult): string =>
  h.error ?? (h.signal ? `killed by ${h.signal}` : `exit ${h.exitCode}`)

/** `--setup "<command>" failed (exit 4)`: the start of every report's line about a failed setup. */
export const failedSetup = (h: HookResult): string => `--setup ${JSON.stringify(showCommand(h.command))} failed (${hookEnding(h)})`
