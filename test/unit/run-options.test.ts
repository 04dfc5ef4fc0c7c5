import { describe, expect, it } from 'vitest'
import { runOptionsFromFlags } from '../../dist/src/cli/run-options.js'

describe('the CLI flags → options function', () => {
  it('maps flags to the API options, leaving out what was not given', () => {
    const o = runOptionsFromFlags(['t'], { workers: 2, out: 'o', killGrace: 5, maxOutput: 9, slow: 30, history: false, order: 'given', bail: true, tap: false, json: 'r.json', env: ['A=1', 'B=x=y'], grep: [] })
    expect(o).toEqual({ paths: ['t'], workers: 2, out: 'o', killGrace: 5, maxOutput: 9, slow: 30, history: false, order: 'given', bail: 1, tap: false, json: 'r.json', env: { A: '1', B: 'x=y' } })
    expect(() => runOptionsFromFlags(['t'], { env: ['NOEQUALS'] })).toThrow(/--env must be KEY=VALUE/)
  })
})
