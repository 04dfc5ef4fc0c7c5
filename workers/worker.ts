/**
 * The piscina task: one long-lived call per worker lane. It claims tests from the shared board until
 * none is left, runs each as a subprocess, and reports every start and end to the main thread.
 * Kept thin: the claim rules live in claim/board, the process handling in spawn-test.
 */
import { threadId } from 'node:worker_threads'
import { releaseProxy, wrap } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { attemptOf, awaitRelease, awaitWork, claimNext, epochOf, isStopped, openBoard, setLanePid, whenStopped } from '../src/claim/board.js'
import { claimWithNeeds, openNeedsBoard, releaseNeeds } from '../src/claim/groups.js'
import { describeEnd, statusOfEnd } from '../src/record/outcome.js'
import { escapeLine } from '../src/util/escape.js'
import type { EndMessage, Host, StartMessage, WorkerTask } from '../src/vocab/protocol.js'
import { decodeTest, planSize } from '../src/claim/plan-buffer.js'
import { now } from '../src/util/time.js'
import { NoteQueue } from '../src/vocab/notes.js'
import { spawnTest } from './spawn-test.js'
import { launchHere } from './launch.js'
import { SpawnerClient } from '../src/watchdog/spawner-client.js'
import { TapStream } from './tap-stream.js'
import { TestOutput, WorkerLog } from './worker-log.js'
import { awaitWatchdog, tellRunWatchdog } from '../src/watchdog/watchdog-wire.js'
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
  const wd = task.watchdog
  const here = launchHere(
    // Before anything else: from here on, the runner's death must take this group along.
    (pgid, id) => tellRunWatchdog(wd, { t: 'start', pgid, id }),
    (pgid) => tellRunWatchdog(wd, { t: 'end', pgid }),
  )
  // The run's fork path, chosen once (src/options/fork-path.ts): through the spawner, the lane waits
  // for it before its first test and forks by itself only once the spawner is out of reach.
  const spawner = task.forkPath === 'spawner' && wd?.socket ? new SpawnerClient(wd.socket, wd.token, env) : undefined
  // A stop reaches a test through its group, and its exit through the spawner: one that stalled
  // would hold the lane, so it is asked to answer (woken by the stop itself, no polling).
  if (spawner) void whenStopped(board).then(() => spawner.probe())
  let ran = 0
  const notes = new NoteQueue(task.port)
  // The running test's start, until it is told: with its end if the test is quick, else by a timer.
  let untold: StartMessage | null = null
  // One timer at a time, and only while something is queued: a lane whose test runs long sleeps.
  let tick: NodeJS.Timeout | undefined
  const onTick = (): void => {
    tick = undefined
    if (untold && now() - untold.at >= START_NOTE_AFTER_MS) {
      notes.add({ note: 'started', report: untold })
      untold = null
    }
    notes.flush()
    if (untold) tick = setTimeout(onTick, Math.max(1, untold.at + START_NOTE_AFTER_MS - now()))
  }
  const schedule = (ms: number): void => void (tick ??= setTimeout(onTick, ms))
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
      // Not before the runner has started its watchdog (it does so while the lanes set up), nor
      // before the spawner has answered when the run forks through it.
      if (ran === 0) {
        awaitWatchdog(wd)
        if (spawner) await Promise.race([spawner.connected, whenStopped(board)])
      }
      const startAt = now()
      if (isStopped(board)) {
        // The run stopped between our claim and now (the wait above included): say so rather than
        // start a test nobody waits for.
        if (needs) releaseNeeds(board, needs, task.lane)
        await call(() => host.testFinished(notRunMessage(slot, task.lane, attempt, startAt)))
        break
      }
      const output = new TestOutput(log, task.maxOutputBytes, `=== ${escapeLine(test.id)} (attempt ${attempt}, started ${new Date(startAt).toISOString()})\n`)
      // In auto mode made on the test's first stdout: one that prints nothing is not TAP, and costs
      // nothing here. In strict mode silence is TAP too (no plan: it fails, as prove says).
      const tapMode = task.tap ? (test.tap ?? 'auto') : 'off'
      let tap = tapMode === 'strict' ? new TapStream('strict') : undefined
      const onStdout = tapMode !== 'off' ? (chunk: Buffer): void => (tap ??= new TapStream('auto')).write(chunk) : undefined
      // A stalled spawner must not hold a test whose lease this node renews: it is asked, all the while, to show it is awake.
      const probing = spawner?.usable && task.probeSpawnerEveryMs > 0 ? setInterval(() => spawner.probe(), task.probeSpawnerEveryMs) : undefined
      const outcome = await spawnTest({
        launch: spawner?.usable ? spawner.launch : here,
        fallback: here,
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
          if (tracing) trace(`worker: spawned slot ${slot} by ${spawner?.usable ? 'spawner' : 'lane'}`)
          setLanePid(board, task.lane, pid)
          untold = { slot, lane: task.lane, attempt, at: startAt }
          schedule(START_NOTE_AFTER_MS)
        },
      })
      clearInterval(probing)
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
      const logError = log.failed()
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
        ...(logError ? { logError } : {}),
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
        schedule(NOTES_EVERY_MS)
      } else {
        if (start) notes.add({ note: 'started', report: start })
        await call(() => host.testFinished(report))
      }
      ran++
    }
    // Answered after every note above is recorded: no report can arrive after the lane is counted finished.
    await call(() => host.flush())
  } finally {
    clearTimeout(tick)
    spawner?.close()
    log.close()
    host[releaseProxy]()
    task.port.close()
  }
  return { lane: task.lane, ran, threadId }
}
