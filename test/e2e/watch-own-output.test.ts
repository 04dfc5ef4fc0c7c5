import { spawn } from 'node:child_process'
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CLI, tempDir, waitFor, write } from '../support/helpers.js'

const runs = (log: string): number => (log.match(/^claimrun: watching \. for changes/gm) ?? []).length

describe('--watch with its output redirected into the project', () => {
  it('its own stdout and stderr files are not changes: only a real change reruns', async () => {
    const dir = tempDir()
    write(dir, 't/test_a.sh', 'echo a\n')
    const logFile = join(dir, 'watch.log')
    const errFile = join(dir, 'watch.err')
    const out = openSync(logFile, 'w')
    const err = openSync(errFile, 'w')
    const child = spawn(process.execPath, [CLI, 'run', 't', '--watch', '--no-history', '--out', 'out'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', out, err] })
    closeSync(out)
    closeSync(err)
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    const log = (): string => readFileSync(logFile, 'utf8')

    await waitFor(() => runs(log()) === 1, `the first run and the watch line\n${log()}`, 60_000)
    appendFileSync(join(dir, 't/test_a.sh'), '# edited\n')
    await waitFor(() => runs(log()) >= 2, `the rerun of t/test_a.sh\n${log()}`, 60_000)
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    // Before: every line printed into watch.log was a change, and each rerun printed more.
    expect(log()).not.toMatch(/changed: .*watch\.(log|err)/)
    expect(log().match(/^claimrun: changed: .*$/gm)).toEqual(['claimrun: changed: t/test_a.sh; running that test'])
    expect(runs(log())).toBe(2)
  })
})
