import { isStopped, markDone, requeue, takeForLane } from '../claim/board.js'
import { statusOfEnd } from '../record/outcome.js'
import type { TestResult } from '../vocab/types.js'
import type { RunContext } from './context.js'
import type { EndMessage, Host, StartMessage } from '../vocab/protocol.js'
import { trace, tracing } from '../util/trace.js'
import { claimInTurn, localFit } from './shared-needs.js'

/**
 * The main thread's side of one lane's conversation (exposed to its worker thread through comlink):
 * records each start and end, decides retries and flakiness, and publishes outcomes to the claim
 * source. The only place a worker's report becomes a result.
 */
export function createHost(run: RunContext, lane: number): Host {
  const { recorder, board, source } = run
  const worker = source.workerName(lane)

  const settle = (result: TestResult, slot: number): void => {
    markDone(board, slot, lane)
    run.emit({ type: 'test:end', test: result })
  }

  return {
    testStarted(report: StartMessage) {
      if (tracing) trace(`host: started slot ${report.slot} lane ${report.lane}`)
      recorder.started(report)
      run.running.set(report.slot, report)
      const id = run.tests[report.slot]?.id as string
      run.emit({ type: 'test:start', test: id, worker, attempt: report.attempt, atMs: recorder.relMs(report.at) })
    },

    // Every note sent before it has been handled by the time it answers (vocab/notes.ts).
    flush() {},

    async claim() {
      if (isStopped(board)) return null
      const stopped = (): boolean => isStopped(board)
      const needs = run.needs
      const claim = needs ? await claimInTurn(needs.board, () => source.claim(worker, stopped, localFit(board, needs, lane))) : await source.claim(worker, stopped)
      if (!claim) return null
      if (recorder.has(claim.slot)) recorder.forget(claim.slot, 'an earlier outcome from this process was not accepted by the run')
      takeForLane(board, claim.slot, lane)
      return claim
    },

    async testFinished(report: EndMessage) {
      if (tracing) trace(`host: finished slot ${report.slot} lane ${report.lane}`)
      run.running.delete(report.slot)
      if (report.logError) run.logFailed(lane, report.logError)
      // A fence that is due acts before this end is judged: a test it (or the watchdog) ended is
      // never taken for a failure of its own.
      source.check?.()
      const fault = run.storeFault
      if (fault && (report.notRun || report.endAt >= fault.at)) {
        const result = report.notRun ? recorder.settle(report.slot, 'error', fault.reason, report.endAt) : recorder.finished(report, 'error')
        result.error = `${fault.reason}; ended so that it cannot run twice`
        settle(result, report.slot)
        return
      }
      const stopping = run.stoppedBy !== null
      if (report.notRun || (stopping && !source.accountsForAll)) {
        // Not run here after all: a shared run gets it back for another process to take.
        await source.release(report.slot)
        const status = report.notRun ? 'notrun' : 'interrupted'
        const why = source.accountsForAll ? undefined : 'handed back to the shared run'
        settle(recorder.settleFromLastAttempt(report.slot) ?? recorder.settle(report.slot, status, why, report.endAt), report.slot)
        return
      }
      let status = statusOfEnd({ ...report, tapProblems: report.subtests?.problems }, stopping)
      if ((status === 'failed' || status === 'timedout') && report.attempt <= run.opts.retries && run.state.claiming) {
        const attempt = recorder.retrying(report, status)
        requeue(board, report.slot, lane)
        run.emit({ type: 'test:retry', test: attempt })
        return
      }
      if (status === 'passed' && recorder.failedBefore(report.slot)) status = 'flaky'
      const result = recorder.finished(report, status)
      markDone(board, report.slot, lane)
      const accepted = await source.publish(report.slot, result, run.t0).catch((err: Error) => {
        run.problem(`could not publish ${result.id}: ${err.message}`)
        return false
      })
      if (!accepted) result.notes = [...(result.notes ?? []), run.storeFault ? `not recorded in the store: ${run.storeFault.reason}` : 'not accepted by the store (its lease had passed to another worker)']
      run.emit({ type: 'test:end', test: result })
      if (status === 'failed' || status === 'timedout' || status === 'error') run.failed()
    },
  }
}
