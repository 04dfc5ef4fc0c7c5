import { spawnGroup, whenPipesClosed } from '../src/util/spawn-group.js'
import type { Launcher } from '../src/vocab/launcher.js'

/**
 * Forks the test from this thread: argv only (no shell), stdin at EOF, its own process group.
 * `guard(pid)` runs right after the fork, before anything else (it tells the watchdog); `unguard`
 * once the group is gone.
 */
export function launchHere(guard: (pid: number, test: string) => void, unguard: (pid: number) => void): Launcher {
  return (req, events) => {
    const child = spawnGroup(req.argv, { cwd: req.cwd, env: Object.assign(req.env, req.testEnv) }, events.failed)
    if (!child) return { drop: () => {}, release: () => {}, probe: () => {} }
    const { pid } = child
    guard(pid, req.test)
    events.spawned(pid)
    child.stdout?.on('data', (chunk: Buffer) => events.data(chunk, true))
    child.stderr?.on('data', (chunk: Buffer) => events.data(chunk, false))
    child.on('exit', (code, signal) => events.exited(code, signal))
    whenPipesClosed(child, () => events.closed())
    return {
      drop: () => {
        child.stdout?.destroy()
        child.stderr?.destroy()
      },
      release: () => unguard(pid),
      // This thread is its parent: its exit comes through this thread's own loop.
      probe: () => {},
    }
  }
}
