import { once } from 'node:events'
import { join } from 'node:path'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { expose } from 'comlink/dist/esm/comlink.mjs'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { doneCount, isStopped, lanePid, markDone, release, setLanePid, slotsHeldBy } from '../claim/board.js'
import { releaseLaneNeeds } from '../claim/groups.js'
import { endGroup } from '../util/process-group.js'
import { now, sleep } from '../util/time.js'
import type { RunContext } from './context.js'
import { createHost } from './host.js'
import { logFileName } from '../vocab/names.js'
import { withNotes, type LaneNote } from '../vocab/notes.js'
import type { Host, WorkerTask } from '../vocab/protocol.js'

/** A test whose run kills its worker this many times ends as `error` instead of being run again. */
const MAX_WORKER_DEATHS = 2
/** A lane whose threads die this many times in a row without ever holding a test gives up (a broken install, not a test). */
const MAX_EMPTY_DEATHS = 3
export const LOST_TEST = 'claimrun lost this test: a runner bug, please report it'

/**
 * Supervises one lane: a long-lived task on one worker thread. If the thread dies, its test is
 * ended and its claim dealt with (handed back, or settled after repeated deaths), and a replacement
 * thread carries on. Returns when the lane has nothing more to do.
 */
export async function runLane(run: RunContext, lane: number, deaths: Map<number, number>): Promise<void> {
  let emptyDeaths = 0
  for (;;) {
    const { port1, port2 } = new MessageChannel()
    const portClosed = once(port1, 'close')
    const host = createHost(run, lane)
    expose(host, withNotes(nodeEndpoint(port1), (note) => onNote(run, host, note)))
    try {
      await run.pool.run(task(run, lane, port2), { transferList: [port2] })
      afterExit(run, lane)
      return
    } catch (err) {
      const held = await afterDeath(run, lane, err, portClosed, deaths)
      emptyDeaths = held ? 0 : emptyDeaths + 1
      if (emptyDeaths >= MAX_EMPTY_DEATHS) {
        run.fault(`${run.source.workerName(lane)} could not start a worker thread (${(err as Error)?.message ?? err})`)
        return
      }
      if (isStopped(run.board) || !run.source.moreToClaim(doneCount(run.board), run.tests.length)) return
    } finally {
      port1.close()
    }
  }
}

/** A note is not a call: nobody waits for it, so whatever goes wrong handling it is a claimrun fault. */
function onNote(run: RunContext, host: Host, note: LaneNote): void {
  try {
    if (note.note === 'batch') return note.notes.forEach((n) => onNote(run, host, n))
    if (note.note === 'started') return host.testStarted(note.report)
    if (note.note === 'ran') host.testStarted(note.start)
    void Promise.resolve(host.testFinished(note.report)).catch((err: unknown) => run.fault(`recording a result failed: ${(err as Error)?.message ?? err}`))
  } catch (err) {
    run.fault(`recording a start failed: ${(err as Error)?.message ?? err}`)
  }
}

function task(run: RunContext, lane: number, port: MessagePort): WorkerTask {
  const { opts } = run
  return {
    lane,
    name: run.source.workerName(lane),
    board: run.board.buffer,
    lanes: run.lanes,
    plan: run.plan,
    port,
    cwd: opts.cwd,
    logFile: join(opts.out, logFileName(lane)),
    claimsInWorker: run.source.claimsInWorker,
    watchdog: run.watchdogLink,
    forkPath: run.forkPath,
    probeSpawnerEveryMs: opts.store ? Math.min(1000, opts.store.leaseMs / 4) : 0,
    timeoutMs: opts.timeoutMs,
    killGraceMs: opts.killGraceMs,
    maxOutputBytes: opts.maxOutput,
    tap: opts.tap,
    ...(run.needs ? { needs: run.needs.board.buffer } : {}),
  }
}

/**
 * A lane's task returned. It must hold no claim now; if it does (a claimrun bug), the test is
 * settled as an error at once, so the lanes still waiting for it are not left waiting forever.
 */
function afterExit(run: RunContext, lane: number): void {
  for (const slot of slotsHeldBy(run.board, lane)) {
    run.fault(`${run.source.workerName(lane)} finished while still holding ${run.tests[slot]?.id}`)
    const result = run.recorder.settle(slot, 'error', LOST_TEST, now())
    markDone(run.board, slot, lane)
    run.emit({ type: 'test:end', test: result })
  }
  if (run.needs) releaseLaneNeeds(run.board, run.needs.board, lane)
}

/**
 * A worker thread died. Its test's process group is ended first, then we wait until the thread's
 * end of the port has closed (the thread is gone, and every report it sent has been handled), and
 * only then is its claim handed back: so the test can never run twice at once.
 * Returns how many tests the dead thread held.
 */
async function afterDeath(run: RunContext, lane: number, err: unknown, portClosed: Promise<unknown>, deaths: Map<number, number>): Promise<number> {
  const { board, recorder, source } = run
  const worker = source.workerName(lane)
  const reason = err instanceof Error ? err.message : String(err)
  const pid = lanePid(board, lane)
  if (pid) {
    await endGroup(pid, 0)
    run.groupEnded(pid)
  }
  await Promise.race([portClosed, sleep(10_000)])
  await new Promise((r) => setImmediate(r))
  setLanePid(board, lane, 0)
  const held = slotsHeldBy(board, lane)
  if (held.length === 0) run.emit({ type: 'worker:crash', worker, test: null, reason })
  for (const slot of held) {
    const count = (deaths.get(slot) ?? 0) + 1
    deaths.set(slot, count)
    const attempt = recorder.startOf(slot)?.attempt ?? 1
    run.emit({ type: 'worker:crash', worker, test: run.tests[slot]?.id ?? null, reason })
    recorder.note(slot, `attempt ${attempt}: ${worker} died while running it (${reason})`)
    if (run.stoppedBy || count >= MAX_WORKER_DEATHS) {
      const status = run.stoppedBy ? 'interrupted' : 'error'
      const result = recorder.settle(slot, status, `its worker thread died ${count === 1 ? 'once' : `${count} times`}: ${reason}`, now())
      markDone(board, slot, lane)
      if (status === 'error') await source.publish(slot, result, run.t0).catch(() => false)
      else await source.release(slot)
      run.emit({ type: 'test:end', test: result })
    } else {
      release(board, slot, lane)
      await source.release(slot)
    }
  }
  // After its slot went back: the scans' hint is reset below it (see releaseLaneNeeds).
  if (run.needs) releaseLaneNeeds(board, run.needs.board, lane)
  return held.length
}
