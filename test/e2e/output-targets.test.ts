import { spawn, spawnSync } from 'node:child_process'
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { afterTest, runCli, tempDir, write } from '../support/helpers.js'

const isRoot = process.getuid?.() === 0

/** A project with one passing test. */
function project(): string {
  const dir = tempDir()
  write(dir, 't/test_ok.sh', 'echo fine\n')
  return dir
}

/** Nothing of ours left beside the targets: no temp file renamed or not. */
const leftovers = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes('claimrun-tmp'))

describe('report targets that are not regular files', () => {
  it.skipIf(!isRoot)('a character device (a private copy of /dev/null) is written through and stays a device, for --junit, --json and --html', async () => {
    const dir = project()
    const dev = join(dir, 'null')
    expect(spawnSync('mknod', [dev, 'c', '1', '3']).status).toBe(0)
    const before = statSync(dev)
    for (const flag of ['--junit', '--json', '--html']) {
      const r = await runCli(['run', 't', '--no-history', flag, dev], { cwd: dir })
      expect(r.code, `${flag}: ${r.stderr}`).toBe(0)
      const after = lstatSync(dev)
      expect(after.isCharacterDevice(), flag).toBe(true)
      expect(after.rdev).toBe(before.rdev)
      expect(after.ino).toBe(before.ino)
    }
    expect(leftovers(dir)).toEqual([])
  })

  it('a FIFO with a reader gets the report through it and stays a FIFO; one without a reader is one line and exit 2, never a hang', async () => {
    const dir = project()
    const fifo = join(dir, 'pipe')
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0)
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] })
    afterTest(() => {
      reader.kill('SIGKILL')
    })
    let got = ''
    reader.stdout.on('data', (d) => (got += d))
    const readerDone = new Promise((r) => reader.on('close', r))
    const r = await runCli(['run', 't', '--no-history', '--junit', fifo], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    await readerDone
    expect(got).toMatch(/^<\?xml[\s\S]*<testsuites[\s\S]*t\/test_ok\.sh[\s\S]*<\/testsuites>\s*$/)
    expect(lstatSync(fifo).isFIFO()).toBe(true)

    const alone = await runCli(['run', 't', '--no-history', '--junit', fifo], { cwd: dir })
    expect(alone.code, alone.stderr).toBe(2)
    expect(alone.stderr.trimEnd().split('\n')).toEqual([`claimrun: could not write --junit ${fifo} (ENXIO: a FIFO that nobody reads); exit code 2`])
    expect(lstatSync(fifo).isFIFO()).toBe(true)
    expect(leftovers(dir)).toEqual([])
  })

  it('a symlink to a file outside is written through: the link stays a link, the file it names holds the report', async () => {
    const dir = project()
    const elsewhere = tempDir()
    const outside = join(elsewhere, 'report.json')
    writeFileSync(outside, 'old\n')
    for (const flag of ['--json', '--junit', '--html']) {
      const link = join(dir, `link${flag}`)
      symlinkSync(outside, link)
      const r = await runCli(['run', 't', '--no-history', flag, link], { cwd: dir })
      expect(r.code, `${flag}: ${r.stderr}`).toBe(0)
      expect(lstatSync(link).isSymbolicLink(), flag).toBe(true)
      expect(readFileSync(outside, 'utf8'), flag).toContain('t/test_ok.sh')
    }
    expect(readdirSync(elsewhere)).toEqual(['report.json'])
    expect(leftovers(dir)).toEqual([])
  })

  it('a folder or a symlink to nothing: one line, exit 2, the folder stays a folder and nothing is created', async () => {
    const dir = project()
    const folder = join(dir, 'folder.xml')
    mkdirSync(folder)
    const dangling = join(dir, 'dangling.xml')
    symlinkSync(join(dir, 'nowhere', 'x.xml'), dangling)
    for (const flag of ['--json', '--junit', '--html']) {
      const r = await runCli(['run', 't', '--no-history', flag, folder], { cwd: dir })
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1)
      expect(statSync(folder).isDirectory()).toBe(true)
      expect(readdirSync(folder)).toEqual([])
      const d = await runCli(['run', 't', '--no-history', flag, dangling], { cwd: dir })
      expect(d.code, d.stderr).toBe(2)
      expect(d.stderr).toContain(`${dangling} is a symlink to nothing, not a file claimrun may write`)
      expect(lstatSync(dangling).isSymbolicLink()).toBe(true)
    }
    expect(readdirSync(dir).sort()).toEqual(['.claimrun', 'dangling.xml', 'folder.xml', 't'])
  })

  it('--history that is a device or a FIFO is refused before anything runs: one line, exit 2, the node untouched', async () => {
    const dir = project()
    const fifo = join(dir, 'history-pipe')
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0)
    const targets = [fifo]
    if (isRoot) {
      const dev = join(dir, 'null')
      expect(spawnSync('mknod', [dev, 'c', '1', '3']).status).toBe(0)
      targets.push(dev)
    }
    for (const target of targets) {
      const r = await runCli(['run', 't', '--history', target], { cwd: dir, timeoutMs: 30_000 })
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr.trimEnd().split('\n')).toEqual([`claimrun: --history ${JSON.stringify(target)} is not a regular file; name a file, or use --no-history (see claimrun run --help)`])
      const st = lstatSync(target)
      expect(st.isFIFO() || st.isCharacterDevice()).toBe(true)
    }
  })
})
