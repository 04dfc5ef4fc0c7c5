import { describe, expect, it } from 'vitest'
import { RunStateMachine } from '../../dist/src/lifecycle/run-state.js'

describe('the run state machine', () => {
  it('allows only the moves in its table', () => {
    const s = new RunStateMachine()
    expect(s.to('finished')).toBe(false)
    expect(s.to('bailed')).toBe(true)
    expect(s.claiming).toBe(false)
    expect(s.to('bailed')).toBe(false)
    expect(s.to('stopping')).toBe(true)
    expect(s.to('bailed')).toBe(false)
    expect(s.to('finishing')).toBe(true)
    expect(s.to('stopping')).toBe(false)
    expect(s.to('finished')).toBe(true)
    expect(s.state).toBe('finished')
  })
})
