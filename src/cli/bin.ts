#!/usr/bin/env node
/** The `claimrun` command's entry: the checks every command needs before anything slow, then the CLI proper (main.ts). */
// A current folder that was deleted under the shell: one line, exit 2 (every command needs it).
import './check-cwd.js'
// Before the rest loads, so that Node's compile cache covers it.
import './compile-cache.js'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
// Then, before anything slow (guards.ts imports only Node built-ins): a stop signal or a closed
// stdout in the first milliseconds still ends with results, not with Node's default exit.
import { armStopSignals, guardOutput } from './guards.js'
import { trace, traceNodeTiming } from '../util/trace.js'
armStopSignals()
guardOutput(process.stdout)
guardOutput(process.stderr)
traceNodeTiming()
trace('bin: guards armed')

// No top-level await: the build also makes this entry a CommonJS bundle (scripts/bundle.mjs).
void start()

async function start(): Promise<void> {
  await (await loadMain()).main()
  trace('bin: exiting')
  // Everything is written by now (the run's files are written synchronously, and so is stdio to a
  // file, a pipe or a terminal on Linux): exiting here skips Node tearing down the whole heap.
  // Output still queued (stdio written asynchronously, on other systems) waits for the natural exit instead.
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit()
}

/** The CLI proper: main.cjs beside this file when this is the CommonJS bundle (bin.cjs, the package's command); else tsc's ES module, main.js. */
async function loadMain(): Promise<typeof import('./main.js')> {
  if (typeof __filename === 'string') return createRequire(__filename)(join(dirname(__filename), 'main.cjs')) as typeof import('./main.js')
  return import('./main.js')
}
