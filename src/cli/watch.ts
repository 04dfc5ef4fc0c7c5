import { fstatSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { escapeLine } from '../util/escape.js'
import { DEFAULTS } from '../options/defaults.js'
import type { InternalOptions } from '../options/resolve.js'
import { failures } from '../reporters/summary.js'
import { countStatuses, exitCodeOf } from '../record/outcome.js'
import type { RunOptions, RunResult, TestResult } from '../vocab/types.js'
import { plural } from '../util/plural.js'

/** Changes closer together than this are one change (an editor's save is often several events). */
const DEBOUNCE_MS = 150

export interface WatchSession {
  /** The options of a full run: the paths given, and everything else. */
  options: RunOptions & InternalOptions
  /** One run with its reporters and summary; `present` turns the result into the one the summary shows. */
  runOnce: (options: RunOptions & InternalOptions, present?: (result: RunResult) => RunResult) => Promise<RunResult>
  /** Aborted by SIGINT/SIGTERM/SIGHUP (reason: the signal's name): the session ends, a run under way is interrupted. */
  signal: AbortSignal
  stdin?: NodeJS.ReadStream
  stdout?: NodeJS.WriteStream
}

type Request = { kind: 'all' } | { kind: 'failed' } | { kind: 'changed'; files: Set<string> }

/**
 * `claimrun run --watch`: a full run, then a run per change until Ctrl-C (or `q`).
 *
 * What is watched: the folder claimrun was started in (the project: tests depend on code anywhere
 * in it, not only next to them) and every path given outside it, recursively, except
 * `node_modules`, dot-folders and dot-files (`.git`, `.claimrun`, editors' swap files), the out
 * folder and the files claimrun itself writes (history, --json, --junit, --html).
 *
 * What runs: when only test files changed, just those tests; when anything else changed (or a file
 * was added or removed), the whole suite again, the tests that failed last time first, the rest in
 * the usual order. Changes during a run are kept and run after it.
 *
 * Why chokidar (v4): it does not descend into ignored folders (fs.watch's recursive mode on Linux
 * walks and watches all of node_modules before any filter applies), it copes with editors that save
 * by rename, and it is the watcher most of the ecosystem uses (vite, webpack). v4 keeps Node >= 20.
 *
 * Resolves with the exit code: 130/143 for a signal, else the last known state (0: no failures).
 */
export async function watchRuns(session: WatchSession): Promise<number> {
  const out = session.stdout ?? process.stdout
  const { options, signal } = session
  const cwd = resolve(options.cwd ?? process.cwd())
  const given = options.paths?.length ? options.paths : ['test']
  const ignoredFiles = new Set([options.history === false ? '' : resolve(cwd, typeof options.history === 'string' && options.history ? options.history : DEFAULTS.history), ...[options.json, options.junit, options.html].filter((f): f is string => Boolean(f)).map((f) => resolve(cwd, f))])
  const outDir = resolve(cwd, options.out ?? DEFAULTS.out)
  const roots = [cwd, ...given.map((p) => resolve(cwd, p)).filter((p) => !inside(cwd, p))]

  let testFiles = new Set<string>()
  /** Ids and files of the tests that did not pass at their last run. */
  let failing = new Map<string, string>()
  /** The last outcome of every test of the suite, in the last full run's order. */
  let suite = new Map<string, TestResult>()
  let lastCode = 0

  const absorb = (result: RunResult, full: boolean): void => {
    if (full) testFiles = new Set(result.tests.map((t) => t.file))
    for (const t of result.tests) failing.delete(t.id)
    if (full) failing = new Map()
    for (const t of failures(result)) failing.set(t.id, t.file)
    if (full) suite = new Map()
    for (const t of result.tests) suite.set(t.id, t)
    lastCode = full ? result.exitCode : wholeSuite(result).exitCode
  }

  /**
   * A partial rerun as the state of the whole suite: each test's last outcome (the rerun's where it
   * ran, the earlier one elsewhere), counted and judged as one run, so the summary after one
   * changed file still shows the tests that are failing from before.
   */
  const wholeSuite = (partial: RunResult): RunResult => {
    const tests = new Map(suite)
    for (const t of partial.tests) tests.set(t.id, t)
    const all = [...tests.values()]
    // An output error (2) or an interrupt says more about this run than the tests do.
    const exitCode = partial.exitCode === 2 || partial.interrupted ? partial.exitCode : exitCodeOf(all, undefined, options.failOnFlaky)
    return { ...partial, tests: all, counts: countStatuses(all), exitCode }
  }
  /** Runs some of the tests; the summary shows the whole suite, and says how much of it just ran. */
  const runPart = async (paths: string[]): Promise<void> => {
    const result = await session.runOnce({ ...rerun, paths }, wholeSuite)
    absorb(result, false)
    if (suite.size > result.tests.length) out.write(`claimrun: the summary above is the whole suite (${plural(suite.size, 'test')}): ${result.tests.length} just run, the rest as they ended before\n`)
  }

  // Reruns run what changed: --last-failed narrows the first run only.
  const rerun = { ...options, lastFailed: false }
  const runFull = async (first: string[]): Promise<void> => {
    absorb(await session.runOnce({ ...rerun, ...(first.length ? { first } : {}) }), true)
  }

  absorb(await session.runOnce(options), true)
  if (signal.aborted) return exitFor(signal)

  // Loaded only now, when there is something to watch (see scripts/bundle.mjs).
  const { watch: chokidar } = await import('chokidar')
  const watcher = chokidar(roots, {
    ignoreInitial: true,
    ignored: (path) => ignoredPath(path, roots, outDir, ignoredFiles),
  })
  let pending: Request | null = null
  let timer: NodeJS.Timeout | undefined
  let wake: (() => void) | undefined
  const request = (r: Request): void => {
    pending = merge(pending, r)
    wake?.()
  }
  const changed = new Set<string>()
  const ownOutput = ownOutputFiles()
  const onChange = (path: string): void => {
    if (isOwnOutput(path, ownOutput)) return
    changed.add(resolve(path))
    clearTimeout(timer)
    timer = setTimeout(() => {
      request({ kind: 'changed', files: new Set(changed) })
      changed.clear()
    }, DEBOUNCE_MS)
  }
  watcher.on('add', onChange).on('change', onChange).on('unlink', onChange).on('unlinkDir', onChange)
  await new Promise<void>((ready) => watcher.once('ready', ready))

  let quit = false
  const keys = listenForKeys(session.stdin ?? process.stdin, (key) => {
    if (key === 'q') {
      quit = true
      wake?.()
    } else request({ kind: key === 'a' ? 'all' : 'failed' })
  })
  const onAbort = (): void => wake?.()
  signal.addEventListener('abort', onAbort)
  try {
    for (;;) {
      out.write(`\nclaimrun: watching ${roots.map((r) => displayRoot(r, cwd)).join(', ')} for changes${keys ? ' (a: run all, f: run failed, q: quit)' : ''}; Ctrl-C ends\n`)
      while (!pending && !quit && !signal.aborted) await new Promise<void>((w) => (wake = w))
      wake = undefined
      if (quit || signal.aborted) break
      const next = pending as unknown as Request
      pending = null
      await runRequest(next)
      if (signal.aborted) break
    }
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
    keys?.close()
    await watcher.close()
  }
  return signal.aborted ? exitFor(signal) : lastCode

  async function runRequest(r: Request): Promise<void> {
    if (r.kind === 'failed' && failing.size === 0) {
      out.write('claimrun: no failures to rerun (a: run all)\n')
      return
    }
    if (r.kind === 'failed') {
      out.write(`claimrun: running the ${failing.size === 1 ? 'test' : `${failing.size} tests`} that failed\n`)
      await runPart([...failing.values()])
      return
    }
    if (r.kind === 'changed') {
      const names = [...r.files].map((f) => escapeLine(relative(cwd, f) || f))
      const tests = [...r.files].filter((f) => testFiles.has(f))
      if (tests.length === r.files.size && tests.length > 0) {
        out.write(`claimrun: changed: ${names.join(', ')}; running ${tests.length === 1 ? 'that test' : `those ${tests.length} tests`}\n`)
        await runPart(tests)
        return
      }
      out.write(`claimrun: changed: ${names.join(', ')}; running all tests${failing.size ? `, the ${failing.size} that failed first` : ''}\n`)
    } else out.write('claimrun: running all tests\n')
    await runFull([...failing.keys()])
  }
}

function merge(a: Request | null, b: Request): Request {
  if (!a) return b
  if (a.kind === 'all' || b.kind === 'all') return { kind: 'all' }
  if (a.kind === 'changed' && b.kind === 'changed') return { kind: 'changed', files: new Set([...a.files, ...b.files]) }
  // A change and a request for the failed tests: a full run (failures first) covers both.
  return { kind: 'all' }
}

const inside = (parent: string, path: string): boolean => {
  const rel = relative(parent, path)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

function ignoredPath(path: string, roots: string[], outDir: string, files: Set<string>): boolean {
  const abs = resolve(path)
  if (inside(outDir, abs) || files.has(abs)) return true
  const root = roots.find((r) => inside(r, abs))
  if (!root) return false
  return relative(root, abs).split(sep).some((part) => part === 'node_modules' || part.startsWith('.'))
}

/** A file's identity: the same file under any name (a hard link, a path through a symlink). */
type FileId = { dev: number; ino: number }

/**
 * claimrun's own stdout and stderr where they are files (`claimrun run --watch > watch.log` inside
 * the project): every line it prints would otherwise be a change, and each rerun print more.
 */
function ownOutputFiles(): FileId[] {
  const own: FileId[] = []
  for (const fd of [1, 2]) {
    try {
      const st = fstatSync(fd)
      if (st.isFile()) own.push({ dev: st.dev, ino: st.ino })
    } catch {
      // Closed: nothing is written there.
    }
  }
  return own
}

function isOwnOutput(path: string, own: FileId[]): boolean {
  if (own.length === 0) return false
  const st = statSync(path, { throwIfNoEntry: false })
  return st !== undefined && own.some((o) => o.dev === st.dev && o.ino === st.ino)
}

const displayRoot = (root: string, cwd: string): string => (root === cwd ? '.' : escapeLine(relative(cwd, root).startsWith('..') ? root : relative(cwd, root)))

/** 129/130/143 by the signal that ended the session, as for a single run. */
const exitFor = (signal: AbortSignal): number => exitCodeOf([], String(signal.reason))

/**
 * Single keys on a terminal (raw mode, so no Enter is needed). Raw mode also swallows Ctrl-C as a
 * byte, so it is turned back into the SIGINT it would have been. Off a terminal: no keys, and
 * stdin is left alone (reading a pipe would keep the process alive).
 */
function listenForKeys(stdin: NodeJS.ReadStream, onKey: (key: 'a' | 'f' | 'q') => void): { close: () => void } | null {
  if (!stdin.isTTY) return null
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  const onData = (data: string): void => {
    for (const ch of data) {
      if (ch === '\u0003') process.kill(process.pid, 'SIGINT')
      else if (ch === 'a' || ch === 'f' || ch === 'q') onKey(ch)
    }
  }
  stdin.on('data', onData)
  stdin.resume()
  return {
    close: () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
    },
  }
}
