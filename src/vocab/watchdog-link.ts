/** What worker threads get of the watchdog: where its pipe's fd will appear, and the run's token. */
export interface WatchdogLink {
  /** Its shared cells (named in watchdog/watchdog-wire.ts, which alone reads and writes them). */
  cell: SharedArrayBuffer
  /** Put in every test's environment as CLAIMRUN_WATCHDOG, for the watchdog to find them by. */
  token: string
  /** The spawner's socket (the watchdog serves it once it has booted), when there is one. */
  socket?: string | undefined
}
