/**
 * Imported first by bin.ts: for `claimrun run`, the worker threads start booting here, before the
 * rest of the command loads (see lanes/first-threads.ts). Its arguments say how many (see
 * prestart-args.ts); anything unusual starts none, and the run starts its threads itself.
 */
import { startFirstThreads, type FirstThreads } from '../lanes/first-threads.js'
import { prestartLanes } from './prestart-args.js'

const lanes = prestartLanes(process.argv.slice(2), process.cwd())

/** The threads started for this command, null for none. */
export const firstThreads: FirstThreads | null = lanes ? startFirstThreads(lanes.threads, lanes.max) : null
