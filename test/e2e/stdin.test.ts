import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from 'claimrun'
import { tempDir, write } from '../support/helpers.js'

describe('stdin', () => {
  it('a test that reads stdin gets end-of-file at once', async () => {
    const dir = tempDir()
    write(dir, 't/test_read.sh', 'if read line; then echo "read: $line"; exit 1; fi\necho "eof"\ncat\necho "cat done"\n')
    write(dir, 't/test_read.py', 'import sys\ndata = sys.stdin.read()\nprint("bytes:", len(data))\n')
    const result = await run({ paths: ['t'], cwd: dir, out: join(dir, 'out'), timeout: 20 })
    const byId = Object.fromEntries(result.tests.map((t) => [t.id, t]))
    expect(byId['t/test_read.sh']).toMatchObject({ status: 'passed', tail: 'eof\ncat done\n' })
    expect(byId['t/test_read.py']).toMatchObject({ status: 'passed', tail: 'bytes: 0\n' })
  })
})
