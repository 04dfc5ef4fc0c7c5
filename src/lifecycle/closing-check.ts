import { slotState } from '../claim/board.js'
import type { PlanEntry } from '../vocab/protocol.js'
import type { TestResult } from '../vocab/types.js'
import { now } from '../util/time.js'
import type { RunContext } from '../lanes/context.js'
import { LOST_TEST } from '../lanes/lane.js'
import { plural } from '../util/plural.js'

/**
 * The closing check of a run (execution.ts): every planned test's one outcome, in plan order. A
 * test without one is settled here: `notrun` if the run cancelled it, an error if the store failed
 * the run, and otherwise claimrun lost it, which is a fault (exit 2), each with its test:end event.
 * A shared run leaves out the tests other processes account for.
 */
export function outcomesOf(run: RunContext): TestResult[] {
  const tests: TestResult[] = []
  for (let slot = 0; slot < run.tests.length; slot++) {
    let result = run.recorder.get(slot)
    // A shared run's process accounts for the tests it took; `claimrun report` for the rest, but
    // only once the store said every test has an outcome (or this process was interrupted and
    // left them to the others). A store that failed leaves every test here, as an error.
    const elsewhere = run.source.doneEverywhere?.() || run.stoppedBy !== null
    if (!result && !run.source.accountsForAll && !run.storeFault && elsewhere && slotState(run.board, slot).state === 'free') continue
    if (!result) {
      const state = slotState(run.board, slot)
      if (run.storeFault) {
        result = run.recorder.settle(slot, 'error', run.storeFault.reason, now())
      } else if (state.state === 'cancelled') {
        result = run.recorder.settleFromLastAttempt(slot) ?? run.recorder.settle(slot, 'notrun', undefined, now())
      } else {
        run.fault(`${(run.tests[slot] as PlanEntry).id} has no outcome (slot ${state.state})`)
        result = run.recorder.settle(slot, 'error', LOST_TEST, now())
      }
      // An outcome given here is an end like any other: onEvent sees one test:end per test.
      run.emit({ type: 'test:end', test: result })
    }
    tests.push(result)
  }
  // The closing check: one outcome per planned test, or claimrun itself is wrong.
  if (run.source.accountsForAll && tests.length !== run.tests.length) run.fault(`${plural(tests.length, 'outcome')} for ${plural(run.tests.length, 'test')}`)
  return tests
}
