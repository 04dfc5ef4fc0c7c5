#!/usr/bin/env node
/**
 * The `claimrun` command's entry. For `claimrun run` the worker threads start booting here, before the
 * rest of the CLI is even loaded (see lanes/first-threads.ts); then the CLI proper (main.ts) is loaded.
 */
// A current folder that was deleted under the shell: one line, exit 2 (every command needs it).
import './check-cwd.js'
// Then, first of all, `claimrun run`'s worker threads start (~23 ms each to boot here, as long as a Node
// process): they boot while the rest loads (see lanes/first-threads.ts).
import { firstThreads, releaseSignals } from './start-threads.js'
// Then, before anything slow (guards.ts imports only Node built-ins): a stop signal or a closed
// stdout in the first milliseconds still ends with results, not with Node's default exit.
import './compile-cache.js'
import { dirname, join } from 'node:path'
import { armStopSignals, guardOutput } from './guards.js'
import { releaseFirstThreads } from '../lanes/first-threads.js'
import { prestart, releaseUnused } from '../lanes/prestart.js'
import { trace, traceNodeTiming } from '../util/trace.js'
import { loadBundle, saveCodeCache } from '../util/code-cache.js'
armStopSignals()
releaseSignals()
guardOutput(process.stdout)
guardOutput(process.stderr)
traceNodeTiming()
trace('bin: guards armed')
// The pool the run will take, made of the threads started first.
if (firstThreads) prestart(firstThreads)
if (releaseFirstThreads() > 0) trace('bin: piscina did not adopt the first threads')
trace('bin: threads prestarted')

// No top-level await: the build also makes this entry a CommonJS bundle (scripts/bundle.mjs).
void start()

async function start(): Promise<void> {
  await (await loadMain()).main()
  trace('bin: command done')
  // After a run only: its entry then holds the code a run compiles (another command's would hold
  // less, and a used entry is never written again).
  if (process.argv[2] === 'run') saveCodeCache()
  // The command is done; threads it did not use end here, never mid-boot (see lanes/prestart.ts).
  await releaseUnused()
  trace('bin: exiting')
  // Everything is written by now (the run's files are written synchronously, and so is stdio to a
  // file, a pipe or a terminal on Linux): exiting here skips Node tearing down the whole heap (~5 ms
  // under load). Output still queued (stdio written asynchronously, on other systems) waits for
  // the natural exit instead.
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit()
}

/**
 * The CLI proper: main.cjs beside this file when this is the CommonJS bundle (bin.cjs, the package's
 * command), compiled with V8's code cache (see util/code-cache.ts); else, as tsc's ES module, main.js.
 */
async function loadMain(): Promise<typeof import('./main.js')> {
  if (typeof __filename === 'string') return loadBundle(join(dirname(__filename), 'main.cjs')) as typeof import('./main.js')
  return import('./main.js')
}
