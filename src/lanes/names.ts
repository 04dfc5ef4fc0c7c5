/** `worker01`, `worker02`, …: stable, sortable, and what tests see in CLAIMRUN_WORKER. */
export const laneName = (lane: number): string => `worker${String(lane).padStart(2, '0')}`

/** The local log file of a lane (a file name, so never the `<node>/` prefix of a shared run). */
export const logFileName = (lane: number): string => `${laneName(lane)}.log`
