#!/usr/bin/env node
/**
 * The `claimrun` command's entry. For `claimrun run` the worker threads start booting here, before the
 * rest of the CLI is even loaded (see lanes/prestart.ts); then the CLI proper (main.ts) is loaded.
 */
// Armed before anything else loads (guards.ts imports only Node built-ins): a stop signal or a closed
// stdout in the first milliseconds still ends with results, not with Node's default exit.
import './compile-cache.js'
import { armStopSignals, guardOutput } from './guards.js'
import { trace, traceNodeTiming } from '../util/trace.js'
guardOutput(process.stdout)
guardOutput(process.stderr)
armStopSignals()
traceNodeTiming()
trace('bin: guards armed')

// No top-level await: the build also makes this entry a CommonJS bundle (scripts/bundle.mjs).
void start()

async function start(): Promise<void> {
  const { prestart, releaseUnused } = await import('../lanes/prestart.js')
  const { prestartLanes } = await import('./prestart-args.js')

  const lanes = prestartLanes(process.argv.slice(2), process.cwd())
  if (lanes) prestart(lanes.threads, lanes.max)
  trace('bin: threads prestarted')
  await (await import('./main.js')).main()
  trace('bin: command done')
  // The command is done; threads it did not use end here, never mid-boot (see lanes/prestart.ts).
  await releaseUnused()
  trace('bin: exiting')
  // Everything is written by now (the run's files are written synchronously, and so is stdio to a
  // file, a pipe or a terminal on Linux): exiting here skips Node tearing down the whole heap (~5 ms
  // under load). Output still queued (stdio written asynchronously, on other systems) waits for
  // the natural exit instead.
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit()
}
