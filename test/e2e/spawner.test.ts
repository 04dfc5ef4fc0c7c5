import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readLines, readResults, runCli, tempDir, waitFor, write } from '../support/helpers.js'
import { killRecordedOnFinish, startRunner, watchdogsOf } from '../support/witness.js'
import { onForkPath } from '../support/fork-path.js'

/** The socket a runner's watchdog serves spawns on (its last argument), once it is listening, with how many lanes are connected. */
function spawnerSocket(runnerPid: number | undefined): { pid: number; path: string; connections: number } | null {
  const [pid] = watchdogsOf(runnerPid)
  if (pid === undefined) return null
  const path = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1) ?? ''
  if (!path.endsWith('spawn.sock')) return null
  // /proc/net/unix names the path on the listening socket and on each connection it accepted.
  const entries = readFileSync('/proc/net/unix', 'utf8').split('\n').filter((line) => line.endsWith(` ${path}`)).length
  return entries === 0 ? null : { pid, path, connections: entries - 1 }
}

/** A test that records its pid and its parent's command line, then waits for `gate` if one is given. */
const parentTest = (record: string, pids: string, gate?: string): string =>
  [
    `echo $$ >> '${pids}'`,
    `printf '%s %s\\n' "$CLAIMRUN_TEST" "$(tr '\\0' ' ' < /proc/$PPID/cmdline)" >> '${record}'`,
    gate ? `while [ ! -e '${gate}' ]; do sleep 0.02; done` : '',
    'exit 0',
  ].join('\n') + '\n'

/**
 * A test's folder and the paths the tests below use in it: the run's out folder, the record of each
 * test's parent, the pids file (every process it names is ended when the test finishes) and a gate.
 */
function spawnerSuite(): { dir: string; out: string; record: string; pids: string; gate: string } {
  const dir = tempDir()
  const pids = join(dir, 'pids')
  killRecordedOnFinish(pids)
  return { dir, out: join(dir, 'out'), record: join(dir, 'parents'), pids, gate: join(dir, 'gate') }
}

describe.runIf(process.platform === 'linux')('the spawner: tests are forked by the small watchdog process, not by the runner', () => {
  onForkPath('always')

  it('every test is the watchdog\'s child: each lane waits for the spawner before its first test; all pass', async () => {
    const { dir, out, record, pids, gate } = spawnerSuite()
    // The first test of each lane holds its lane until both lanes are connected to the spawner.
    write(dir, 't/test_00a.sh', parentTest(record, pids, gate))
    write(dir, 't/test_00b.sh', parentTest(record, pids, gate))
    for (let i = 1; i <= 12; i++) write(dir, `t/test_${String(i).padStart(2, '0')}.sh`, parentTest(record, pids))
    const runner = startRunner(dir, ['--workers', '2', '--order', 'given', '--no-history', '--out', out])
    await waitFor(() => (spawnerSocket(runner.child.pid)?.connections ?? 0) >= 2 && existsSync(record) && readLines(record).length >= 2, 'both lanes connected to the spawner and holding their first test')
    const socket = spawnerSocket(runner.child.pid)?.path as string
    writeFileSync(gate, '')
    expect(await runner.exited).toBe(0)
    expect(readResults(out).counts.passed).toBe(14)
    const parents = new Map(readLines(record).map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]))
    expect(parents.size).toBe(14)
    for (const [id, parent] of parents) expect(parent, id).toMatch(new RegExp(`watchdog-process\\.c?js .* ${runner.child.pid} ${runner.child.pid}-`))
    // The socket's private folder goes with the watchdog.
    await waitFor(() => watchdogsOf(runner.child.pid).length === 0, 'the watchdog to exit')
    expect(existsSync(join(socket, '..'))).toBe(false)
  })

  it('the spawner killed mid-run: its running test is an error and ends, the lane forks the rest itself, nothing is left', async () => {
    const { dir, out, record, pids } = spawnerSuite()
    const hang = join(dir, 'hang')
    write(dir, 't/test_01.sh', parentTest(record, pids, join(dir, 'gate-1')))
    // Started by the spawner (lane connected by then), it runs until it is ended.
    write(dir, 't/test_02.sh', `echo $$ >> '${pids}'\necho $$ > '${hang}'\nexec sleep 300\n`)
    for (let i = 3; i <= 5; i++) write(dir, `t/test_0${i}.sh`, parentTest(record, pids))
    const runner = startRunner(dir, ['--workers', '1', '--order', 'given', '--no-history', '--kill-grace', '1', '--out', out])
    await waitFor(() => (spawnerSocket(runner.child.pid)?.connections ?? 0) >= 1 && existsSync(record) && readLines(record).length >= 1, 'the lane connected to the spawner, holding test_01')
    const spawner = spawnerSocket(runner.child.pid)?.pid as number
    writeFileSync(join(dir, 'gate-1'), '')
    await waitFor(() => existsSync(hang) && readLines(hang).length === 1, 'test_02 to start')
    const hanging = Number(readLines(hang)[0])
    expect(readFileSync(`/proc/${hanging}/stat`, 'latin1').split(' ')[3]).toBe(String(spawner)) // its parent
    process.kill(spawner, 'SIGKILL')
    expect(await runner.exited).toBe(1)
    const results = readResults(out)
    const byId = new Map(results.tests.map((t) => [t.id, t]))
    expect(byId.get('t/test_02.sh')?.status).toBe('error')
    expect(String(byId.get('t/test_02.sh')?.error)).toMatch(/spawner .* ended while the test ran/)
    // Each on its first attempt: the lane's thread lived on (it once died writing to the dead
    // watchdog's pipe after Node had closed it and a test's stdout had taken its fd number).
    for (const id of ['t/test_01.sh', 't/test_03.sh', 't/test_04.sh', 't/test_05.sh']) expect([byId.get(id)?.status, byId.get(id)?.attempts], id).toEqual(['passed', 1])
    // The rest were forked by the runner itself, and the hanging test is gone.
    for (const line of readLines(record).slice(1)) expect(line).toMatch(/bin\.c?js run t/)
    await waitFor(() => !existsSync(`/proc/${hanging}`) || readFileSync(`/proc/${hanging}/stat`, 'latin1').split(' ')[2] === 'Z', 'the hanging test to be gone')
  })

  it('a test that floods stdout through the spawner: every byte reaches the log, in order, and the run ends', async () => {
    const { dir, out, record, pids, gate } = spawnerSuite()
    // The first test holds the lane until it is connected, so the second surely goes through the spawner,
    // whose frames then outrun what the socket holds (written straight to its fd until it is full,
    // then queued behind in the stream).
    write(dir, 't/test_1.sh', parentTest(record, pids, gate))
    write(dir, 't/test_2.sh', `echo $$ >> '${pids}'\nprintf '%s %s\\n' "$CLAIMRUN_TEST" "$(tr '\\0' ' ' < /proc/$PPID/cmdline)" >> '${record}'\nseq 1 1500000\n`)
    const runner = startRunner(dir, ['--workers', '1', '--order', 'given', '--no-history', '--out', out])
    await waitFor(() => (spawnerSocket(runner.child.pid)?.connections ?? 0) >= 1 && existsSync(record) && readLines(record).length >= 1, 'the lane connected to the spawner, holding test_1')
    writeFileSync(gate, '')
    expect(await runner.exited).toBe(0)
    const flood = readResults(out).tests.find((t) => t.id === 't/test_2.sh') as unknown as { status: string; outputBytes: number; log: { path: string; offset: number; length: number } }
    expect(readLines(record)[1]).toMatch(/watchdog-process\.c?js/)
    let expected = ''
    for (let i = 1; i <= 1500000; i++) expected += `${i}\n`
    expect(flood.status).toBe('passed')
    expect(flood.outputBytes).toBe(expected.length)
    const logged = readFileSync(join(out, flood.log.path)).subarray(flood.log.offset, flood.log.offset + flood.log.length).toString('utf8')
    const body = logged.slice(logged.indexOf('\n') + 1, logged.lastIndexOf('=== '))
    expect(body === expected).toBe(true)
  })

  it('a connection that does not open with the run\'s token is hung up on, and starts nothing', async () => {
    const { dir, out, pids, gate } = spawnerSuite()
    const made = join(dir, 'made-by-a-stranger')
    write(dir, 't/test_01.sh', `echo $$ >> '${pids}'\nwhile [ ! -e '${gate}' ]; do sleep 0.02; done\n`)
    const runner = startRunner(dir, ['--workers', '1', '--no-history', '--out', out])
    await waitFor(() => spawnerSocket(runner.child.pid) !== null, 'the spawner to listen')
    const { path } = spawnerSocket(runner.child.pid) as { path: string }
    const frame = (kind: number, id: number, payload: string): Buffer => {
      const body = Buffer.from(payload)
      const head = Buffer.alloc(9)
      head.writeUInt8(kind, 0)
      head.writeUInt32LE(id, 1)
      head.writeUInt32LE(body.length, 5)
      return Buffer.concat([head, body])
    }
    const spawnTouch = frame(2, 1, JSON.stringify({ argv: ['touch', made], cwd: dir, test: 'x', env: {} }))
    for (const hello of [frame(1, 0, JSON.stringify({ token: 'not-the-token', env: { PATH: process.env.PATH } })), spawnTouch]) {
      const closed = await new Promise<boolean>((resolve) => {
        const socket = createConnection(path, () => socket.write(Buffer.concat([hello, spawnTouch])))
        socket.on('error', () => resolve(true))
        socket.on('close', () => resolve(true))
        socket.on('data', () => resolve(false))
      })
      expect(closed).toBe(true)
    }
    writeFileSync(gate, '')
    expect(await runner.exited).toBe(0)
    expect(existsSync(made)).toBe(false)
  })

  it('CLAIMRUN_SPAWNER set to something else: one line naming it and the values it takes, exit 2, nothing run', async () => {
    const dir = tempDir()
    const ran = join(dir, 'ran')
    write(dir, 't/test_1.sh', `touch '${ran}'\n`)
    const res = await runCli(['run', 't', '--no-history'], { cwd: dir, env: { CLAIMRUN_SPAWNER: 'sometimes' } })
    expect(res.code).toBe(2)
    expect(res.stderr.trim().split('\n')).toEqual(['claimrun: CLAIMRUN_SPAWNER must be one of off, always, auto (received "sometimes"); unset it for auto (see claimrun run --help)'])
    expect(existsSync(ran)).toBe(false)
  })
})
