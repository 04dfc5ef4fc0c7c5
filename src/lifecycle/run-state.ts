/**
 * A run's lifecycle as an explicit table of legal moves (mocha keeps its runner's states the same
 * way): every change goes through `to`, so an illegal one (finishing twice, bailing after a stop)
 * is refused in one place instead of guarded by loose flags.
 *
 *   running ──► bailed ──► stopping ──► finishing ──► finished
 *      │          │           ▲             ▲
 *      │          └───────────┼─────────────┤
 *      └──────────────────────┴─────────────┘
 *
 * running:   lanes claim and run tests
 * bailed:    --bail reached: no more claims, running tests finish normally
 * stopping:  interrupted (signal, abort, internal error): no more claims, running tests are ended
 * finishing: every lane has returned; outcomes are settled and the files written
 * finished:  the result is out
 */
export type RunState = 'running' | 'bailed' | 'stopping' | 'finishing' | 'finished'

const MOVES: Readonly<Record<RunState, readonly RunState[]>> = {
  running: ['bailed', 'stopping', 'finishing'],
  bailed: ['stopping', 'finishing'],
  stopping: ['finishing'],
  finishing: ['finished'],
  finished: [],
}

export class RunStateMachine {
  #state: RunState = 'running'

  get state(): RunState {
    return this.#state
  }

  /** Moves to `next` if the table allows it; returns whether it did. */
  to(next: RunState): boolean {
    if (!MOVES[this.#state].includes(next)) return false
    this.#state = next
    return true
  }

  /** No more claims: bailed, stopping, or past. */
  get claiming(): boolean {
    return this.#state === 'running'
  }
}
