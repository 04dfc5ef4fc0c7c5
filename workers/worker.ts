/**
 * The piscina task: one long-lived call per worker lane. It claims tests from the shared board until
 * none is left, runs each as a subprocess, and reports every start and end to the main thread.
 * Kept thin: the claim rules live in claim/board, the process handling in spawn-test.
 */
import { threadId, workerData } from 'node:worker_threads'
import { releaseProxy, wrap } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { attemptOf, awaitRelease, awaitWork, claimNext, epochOf, isStopped, openBoard, setLanePid } from '../src/claim/board.js'
import { claimWithNeeds, openNeedsBoard, releaseNeeds } from '../src/claim/groups.js'
import { describeEnd, statusOfEnd } from '../src/record/outcome.js'
import { escapeLine } from '../src/util/escape.js'
import type { EndMessage, Host, StartMessage, WorkerTask } from '../src/lanes/protocol.js'
import { decodeTest, planSize } from '../src/claim/plan-buffer.js'
import { now } from '../src/util/time.js'
import { NoteQueue } from '../src/lanes/notes.js'
import { spawnTest } from './spawn-test.js'
import { launchHere } from './launch.js'
import { SpawnerClient } from './spawner-client.js'
import { TapStream } from './tap-stream.js'
import { TestOutput, WorkerLog } from './worker-log.js'
import { awaitWatchdog, spawnerBooting, tellRunWatchdog } from '../src/lanes/watchdog-wire.js'
import { trace, tracing } from '../src/util/trace.js'

trace('worker: module loaded')

/** How long a test runs before the main thread hears that it started (live view, --slow, test:start). */
const START_NOTE_AFTER_MS = 50
/** How often a lane posts its queued notes (results of passed tests, starts) to the main thread. */
const NOTES_EVERY_MS = 25

const notRunMessage = (slot: number, lane: number, attempt: number, at: number): EndMessage => ({
  slot, lane, attempt, startAt: at, endAt: at, exitCode: null, signal: null, notRun: true, timedOut: false,
  leaked: 0, outputBytes: 0, droppedBytes: 0, logOffset: 0, logLength: 0, tail: '',
})

// A prestarted thread says when it has booted (see src/lanes/prestart.ts: nothing ends it before).
// Not now but in a microtask: this module is being loaded by piscina's require() right now, and
// ending a thread inside Node 20's require(esm) aborts the whole process (V8 "IsGraphAsync" fatal);
// microtasks run once that require has returned (and before piscina blocks in Atomics.wait for a
// task, which a setImmediate would wait behind).
const booted = (workerData as { booted?: Int32Array } | null)?.booted
if (booted) {
  queueMicrotask(() => {
    Atomics.add(booted, 0, 1)
    Atomics.notify(booted, 0)
  })
}

export default async function work(task: WorkerTask): Promise<{ lane: number; ran: number; threadId: number }> {
  trace(`worker: task lane ${task.lane}`)
  const host = wrap<Host>(nodeEndpoint(task.port))
  const board = openBoard(task.board, planSize(task.plan), task.lanes)
  const log = new WorkerLog(task.logFile)
  // Lock groups, weights, serial tests: claims go through their counters (none declared: the plain claim).
  const needs = task.needs ? openNeedsBoard(task.needs) : null
  // Built once per lane; only the per-test variables change (spawn reads it synchronously).
  const env: NodeJS.ProcessEnv = { ...process.env, CLAIMRUN_WORKER: task.name, CLAIMRUN_WORKER_ID: String(task.lane) }
  // How the watchdog finds this run's processes even when it was not told their group in time.
  if (task.watchdog) env.CLAIMRUN_WATCHDOG = task.watchdog.token
  // Forked here until the run's spawner answers (see src/lanes/spawn-server.ts: forking this
  // multi-threaded process costs about twice what forking that small one does), and for good if it never does.
  const wd = task.watchdog
  const here = launchHere(
    // Before anything else: from here on, the runner's death must take this group along.
    (pgid, id) => tellRunWatchdog(wd, { t: 'start', pgid, id }),
    (pgid) => tellRunWatchdog(wd, { t: 'end', pgid }),
  )
  // Connected once the watchdog has been told to boot (a short run never boots it: see src/lanes/watchdog.ts).
  let spawner: SpawnerClient | undefined
  const spawnerNow = (): SpawnerClient | undefined => {
    if (!spawner && wd?.socket && spawnerBooting(wd)) spawner = new SpawnerClient(wd.socket, wd.token, env)
    return spawner
  }
  let ran = 0
  let toldFirst = false
  const notes = new NoteQueue(task.port)
  // The running test's start, until it is told: with its end if the test is quick, else on a tick.
  let untold: StartMessage | null = null
  const ticker = setInterval(() => {
    // Connects as soon as the spawner boots, even while this lane's test runs long.
    spawnerNow()
    if (untold && now() - untold.at >= START_NOTE_AFTER_MS) {
      notes.add({ note: 'started', report: untold })
      untold = null
    }
    notes.flush()
  }, NOTES_EVERY_MS)
  // Every call to the host comes after the notes queued before it (and so do its effects).
  const call = <T>(fn: () => Promise<T> | T): Promise<T> | T => {
    notes.flush()
    return fn()
  }
  try {
    for (;;) {
      if (isStopped(board)) break
      let slot: number
      let attempt: number
      if (!task.claimsInWorker) {
        // A shared run: the main thread claims from the store (one atomic round trip) for us.
        const claim = await call(() => host.claim())
        if (!claim) break
        ;({ slot, attempt } = claim)
      } else if (needs) {
        // Read before the look, so that a release between the look and the sleep wakes us.
        const epoch = epochOf(board)
        slot = claimWithNeeds(board, needs, task.lane)
        if (slot < 0) {
          notes.flush()
          spawner?.flush()
          if (awaitRelease(board, epoch)) continue
          break
        }
        attempt = attemptOf(board, slot)
      } else {
        slot = claimNext(board, task.lane)
        if (slot < 0) {
          notes.flush()
          spawner?.flush()
          if (awaitWork(board)) continue
          break
        }
        attempt = attemptOf(board, slot)
      }
      const test = decodeTest(task.plan, slot)
      // After its first test the lane tells the main thread at once (not on the next tick): hearing
      // that a test is under way is what boots the spawner in a run with more tests than lanes
      // (src/lanes/execution.ts). The lane does not wait for the spawner: it forks its tests itself
      // until the spawner answers. Waiting (up to the spawner's ~50-150 ms boot) cost a small suite
      // more wall time than those forks cost CPU: 6 quick tests 180 -> 136 ms, 20 tests 198 -> 173 ms,
      // 500 tests 777 -> 776 ms wall for 1168 -> 1205 ms of CPU (medians of 9, 2 cores).
      if (ran > 0 && !toldFirst) {
        toldFirst = true
        notes.flush()
      }
      const startAt = now()
      if (isStopped(board)) {
        // The run stopped between our claim and now: say so rather than start a test nobody waits for.
        if (needs) releaseNeeds(board, needs, task.lane)
        await call(() => host.testFinished(notRunMessage(slot, task.lane, attempt, startAt)))
        break
      }
      // Not before the runner has started its watchdog (it does so while the lanes set up).
      if (ran === 0) awaitWatchdog(wd)
      const output = new TestOutput(log, task.maxOutputBytes, `=== ${escapeLine(test.id)} (attempt ${attempt}, started ${new Date(startAt).toISOString()})\n`)
      // Made on the test's first stdout: one that prints nothing is not TAP, and costs nothing here.
      let tap: TapStream | undefined
      const onStdout = task.tap ? (chunk: Buffer): void => (tap ??= new TapStream()).write(chunk) : undefined
      const outcome = await spawnTest({
        launch: spawnerNow()?.ready ? (spawner as SpawnerClient).launch : here,
        test: test.id,
        argv: test.argv,
        cwd: task.cwd,
        env,
        testEnv: { CLAIMRUN_TEST: test.id, CLAIMRUN_ATTEMPT: String(attempt) },
        timeoutMs: task.timeoutMs,
        killGraceMs: task.killGraceMs,
        output,
        ...(onStdout ? { onStdout } : {}),
        onSpawn: (pid) => {
          if (tracing) trace(`worker: spawned slot ${slot} by ${spawner?.ready ? 'spawner' : 'lane'}`)
          setLanePid(board, task.lane, pid)
          untold = { slot, lane: task.lane, attempt, at: startAt }
        },
      })
      if (tracing) trace(`worker: ended slot ${slot}`)
      setLanePid(board, task.lane, 0)
      // Its process group is gone: its groups and capacity are free for the next claim, here or elsewhere.
      if (needs) releaseNeeds(board, needs, task.lane)
      const subtests = tap?.finish()
      const ms = outcome.endAt - startAt
      const status = statusOfEnd({ ...outcome, tapProblems: subtests?.problems }, false)
      const tapNote = status === 'failed' && outcome.exitCode === 0 ? `TAP: ${escapeLine(subtests?.problems.join('; ') ?? '')}` : undefined
      const verdict = describeEnd({ status, exitCode: outcome.exitCode, signal: outcome.signal, error: outcome.spawnError, attempts: attempt }, tapNote)
      const written = output.finish(`=== ${escapeLine(test.id)}: ${verdict} in ${ms.toFixed(0)} ms\n`)
      const report: EndMessage = {
        slot,
        lane: task.lane,
        attempt,
        startAt,
        endAt: outcome.endAt,
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        timedOut: outcome.timedOut,
        leaked: outcome.leaked,
        outputBytes: written.outputBytes,
        droppedBytes: written.droppedBytes,
        logOffset: written.offset,
        logLength: written.length,
        tail: written.tail,
        ...(outcome.spawnError ? { spawnError: outcome.spawnError } : {}),
        ...(subtests ? { subtests } : {}),
      }
      // A pass needs no answer: a note, and on to the next claim (the main thread marks the slot
      // done when it records it). Anything else is awaited, so that a --bail or a retry it causes
      // takes effect before this lane claims again; a shared run awaits every report (the store's say).
      const start = untold
      untold = null
      if (status === 'passed' && task.claimsInWorker) {
        notes.add(start ? { note: 'ran', start, report } : { note: 'finished', report })
      } else {
        if (start) notes.add({ note: 'started', report: start })
        await call(() => host.testFinished(report))
      }
      ran++
    }
    // Answered after every note above is recorded: no report can arrive after the lane is counted finished.
    await call(() => host.flush())
  } finally {
    clearInterval(ticker)
    spawner?.close()
    log.close()
    host[releaseProxy]()
    task.port.close()
  }
  return { lane: task.lane, ran, threadId }
}
