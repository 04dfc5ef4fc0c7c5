// Made once per lane: every result of a run names its worker and its log, ten thousand times in a big run.
const names: string[] = []
const logNames: string[] = []

/** `worker01`, `worker02`, …: stable, sortable, and what tests see in CLAIMRUN_WORKER. */
export const laneName = (lane: number): string => (names[lane] ??= `worker${String(lane).padStart(2, '0')}`)

/**
 * The local log file of a worker, by lane number or by name (`worker01` or, in a shared run,
 * `<node>/worker01`): a file name in the out folder, so never the `<node>/` prefix. The only place
 * a log's name is built.
 */
export const logFileName = (worker: number | string): string =>
  typeof worker === 'number' ? (logNames[worker] ??= `${laneName(worker)}.log`) : `${worker.split('/').at(-1) as string}.log`
