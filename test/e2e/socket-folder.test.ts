import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ROOT, tempDir, waitFor, write } from '../support/helpers.js'
import { killRecordedOnFinish } from '../support/witness.js'

const API = pathToFileURL(join(ROOT, 'dist/src/index.js')).href

/**
 * A process running a suite through the public API with its own TMPDIR (where the run makes the
 * spawner socket's private folder, `claimrun-*`), whose event hook ends the process when `event`
 * comes: `kill` by SIGKILL (as the OOM killer would), `exit` by process.exit (no finally runs).
 */
function runnerEndedAt(dir: string, event: string, how: 'kill' | 'exit'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const script = write(dir, 'runner.mjs', [
    `import { run } from ${JSON.stringify(API)}`,
    'const [dir, event, how] = process.argv.slice(2)',
    "const end = () => (how === 'kill' ? process.kill(process.pid, 'SIGKILL') : process.exit(3))",
    "await run({ paths: ['t'], cwd: dir, out: dir + '/out', history: false, onEvent: (e) => void (e.type === event && end()) })",
  ].join('\n') + '\n')
  const child = spawn(process.execPath, [script, dir, event, how], { env: { ...process.env, TMPDIR: join(dir, 'tmp') }, stdio: 'ignore' })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
}

// (mkdtemp's `claimrun-XXXXXX`; not the code cache's `claimrun-code-cache-<uid>`, which stays by design.)
const socketFolders = (dir: string): string[] => readdirSync(join(dir, 'tmp')).filter((name) => /^claimrun-[A-Za-z0-9]{6}$/.test(name))

describe.runIf(process.platform === 'linux')('the spawner socket\'s private folder never outlives the run', () => {
  // The folder was made with the run, before its pool and its claim source had started, and only the
  // run's normal end or the watchdog (which is not running yet) removed it: a run that failed to
  // start, or a runner that died meanwhile, left it in TMPDIR for good.
  for (const how of ['kill', 'exit'] as const) {
    it(`a runner ended by ${how === 'kill' ? 'SIGKILL' : 'process.exit'} as its run starts leaves none`, async () => {
      const dir = tempDir()
      mkdirSync(join(dir, 'tmp'))
      write(dir, 't/test_1.sh', 'exit 0\n')
      write(dir, 't/test_2.sh', 'exit 0\n')
      const ended = await runnerEndedAt(dir, 'run:start', how)
      expect(ended).toEqual(how === 'kill' ? { code: null, signal: 'SIGKILL' } : { code: 3, signal: null })
      expect(socketFolders(dir)).toEqual([])
    })
  }

  it('a runner SIGKILLed while a test runs: the watchdog ends the test and removes the folder', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'tmp'))
    const pids = join(dir, 'pids')
    killRecordedOnFinish(pids)
    // Runs until it is ended (or its folder is gone, should the test fail).
    write(dir, 't/test_1.sh', `echo $$ >> '${pids}'\nwhile [ -d '${dir}' ]; do sleep 0.02; done\n`)
    const ended = await runnerEndedAt(dir, 'test:start', 'kill')
    expect(ended.signal).toBe('SIGKILL')
    // Its note says it ran (the folder goes as it exits).
    await waitFor(() => existsSync(join(dir, 'out', 'runner-died.txt')), 'the watchdog\'s note')
    await waitFor(() => socketFolders(dir).length === 0, 'the watchdog to remove the socket folder')
  })
})
