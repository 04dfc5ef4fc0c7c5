#!/usr/bin/env node
/**
 * The `claimrun` command's entry. For `claimrun run` the worker threads start booting here, before the
 * rest of the CLI is even loaded (see lanes/prestart.ts); then the CLI proper (main.ts) is loaded.
 */
import { prestart, releaseUnused } from '../lanes/prestart.js'
import { prestartLanes } from './prestart-args.js'

const lanes = prestartLanes(process.argv.slice(2), process.cwd())
if (lanes) prestart(lanes.threads, lanes.max)
await import('./main.js')
// The command is done; threads it did not use end here, never mid-boot (see lanes/prestart.ts).
await releaseUnused()
