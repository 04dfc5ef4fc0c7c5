import { relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testId } from '../../dist/src/plan/discover.js'

describe('test ids: the path relative to the run\'s folder', () => {
  it('agree with path.relative for paths under the folder and around it', () => {
    const cwds = ['/w/suite', '/w/suite/', '/w/./suite', '/w/x/../suite', '/', 'rel/suite', '/w/su']
    const rests = ['a.sh', 'sub/b.sh', 'a/b/c/d.test.js', '.hidden/t.sh', 'a/.b/t.sh', 'a/../t.sh', './t.sh', 'a//t.sh', 'a/', 'a.', '..', '.', 'x y/é.sh']
    for (const cwd of cwds) {
      for (const rest of rests) {
        for (const file of [`${cwd}/${rest}`, `/w/suite/${rest}`, `/other/${rest}`, `${cwd}${rest}`]) {
          expect(testId(cwd, file), `${cwd} + ${file}`).toBe(relative(cwd, file))
        }
      }
    }
  })
})
