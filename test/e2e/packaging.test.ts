import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, write } from '../support/helpers.js'

// The package as a user gets it: packed from the built tree, installed into a fresh app, used there
// through the bin, the ES module API from TypeScript, and require(). Needs the npm registry (or a
// warm npm cache) for claimrun's own dependencies.

interface Packed {
  filename: string
  size: number
  unpackedSize: number
  files: Array<{ path: string }>
}

const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

function sh(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' } })
  if (r.error) throw r.error
  return r
}

/** Bytes under a folder, and the packages in a node_modules (scoped ones counted one by one). */
function footprint(nodeModules: string): { packages: string[]; bytes: number } {
  const packages: string[] = []
  let bytes = 0
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name)
      if (e.isDirectory()) walk(full)
      else if (e.isFile()) bytes += statSync(full).size
    }
  }
  walk(nodeModules)
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith('.')) continue
    const names = name.startsWith('@') ? readdirSync(join(nodeModules, name)).map((n) => `${name}/${n}`) : [name]
    packages.push(...names.filter((n) => existsSync(join(nodeModules, n, 'package.json'))))
  }
  return { packages, bytes }
}

describe('the published package', { timeout: 180_000 }, () => {
  let packed: Packed
  let app: string
  // One pack and one install for the whole file (tempDir() is per test), removed at the end.
  const temps: string[] = []
  const temp = (prefix: string): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    temps.push(dir)
    return dir
  }
  afterAll(() => {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true })
  })

  beforeAll(() => {
    const dest = temp('claimrun-pack-')
    // --ignore-scripts: pack the tree `npm test` just built; rebuilding here would swap dist/ under
    // the test files running beside this one.
    const r = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], ROOT)
    expect(r.status, r.stderr).toBe(0)
    packed = (JSON.parse(r.stdout) as Packed[])[0] as Packed
    packed.filename = join(dest, packed.filename)

    app = temp('claimrun-app-')
    write(app, 'package.json', JSON.stringify({ name: 'adopter', version: '1.0.0', private: true, type: 'module' }))
    const install = sh('npm', ['install', packed.filename, '--no-audit', '--no-fund', '--prefer-offline'], app, 240_000)
    expect(install.status, install.stderr).toBe(0)
  }, 300_000)

  it('holds what a user needs and nothing else: no source maps, no test code, every README link inside', () => {
    const files = packed.files.map((f) => f.path)
    for (const needed of ['LICENSE', 'README.md', 'package.json', 'dist/src/cli/bin.cjs', 'dist/src/cli/early.cjs', 'dist/src/cli/main.cjs', 'dist/src/cli/bin.js', 'dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/index.cjs', 'dist/src/index.d.cts', 'dist/workers/worker.cjs', 'dist/workers/worker.js', 'dist/vendor/piscina/main.js', 'dist/vendor/piscina/worker.js', 'dist/vendor/piscina/LICENSE', 'dist/vendor/commander/LICENSE', 'dist/vendor/comlink/LICENSE', 'assets/report.js']) {
      expect(files).toContain(needed)
    }
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([])
    // (dist/src/bench is `claimrun bench`, shipped; the repo's bench/ harness is not.)
    expect(files.filter((f) => /(^|\/)(test|tests|fixtures|\.ci)\//.test(f) || /^bench\//.test(f) || /\.test\./.test(f))).toEqual([])
    // No test hooks: the dying worker lives in test/support, and nothing shipped mentions it.
    expect(files.filter((f) => /test-hooks|dying-worker/.test(f))).toEqual([])
    const shipped = files.filter((f) => /\.c?js$/.test(f)).map((f) => [f, readFileSync(join(app, 'node_modules/claimrun', f), 'utf8')] as const)
    expect(shipped.filter(([, text]) => /die-on|dieNow|test-hooks|dying-worker/.test(text)).map(([f]) => f)).toEqual([])
    expect(files.filter((f) => /\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f))).toEqual([])
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('MIT')
    // Every relative link or image in the README must be a file in the package.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((l) => !/^(https?:|mailto:|#)/.test(l))
    expect(links.length).toBeGreaterThan(0)
    for (const link of links) expect(files, `README links to ${link}`).toContain(link.replace(/^\.\//, '').replace(/#.*$/, ''))
    console.log(`tarball: ${(packed.size / 1024).toFixed(1)} kB packed, ${(packed.unpackedSize / 1024).toFixed(1)} kB unpacked, ${files.length} files`)
  })

  it('installs without ioredis (an optional peer) and reports its footprint', () => {
    const { packages, bytes } = footprint(join(app, 'node_modules'))
    expect(packages).toContain('claimrun')
    expect(packages).not.toContain('ioredis')
    console.log(`installed: ${packages.length} packages, ${(bytes / 1024 / 1024).toFixed(2)} MB in node_modules (${packages.sort().join(', ')})`)
  })

  it('npx claimrun run test: runs the app\'s suite and keeps .claimrun/ out of git', () => {
    write(app, 'test/test_one.sh', 'echo one\n')
    write(app, 'test/math.test.js', "if (1 + 1 !== 2) process.exit(1)\nconsole.log('two')\n")
    const r = sh('npx', ['claimrun', 'run', 'test', '--no-progress'], app)
    console.log(`$ npx claimrun run test\n${r.stdout}${r.stderr}`)
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^2 passed, 0 failed - 2 tests in .* on 2 workers$/m)
    expect(readFileSync(join(app, '.claimrun/.gitignore'), 'utf8')).toMatch(/^\*$/m)
    const results = JSON.parse(readFileSync(join(app, '.claimrun/last-run/results.json'), 'utf8')) as { tests: Array<{ id: string; status: string }> }
    expect(results.tests.map((t) => `${t.id} ${t.status}`).sort()).toEqual(['test/math.test.js passed', 'test/test_one.sh passed'])
  })

  // One tsc run (a full strict typecheck is slow on a busy machine): main.ts and legacy.cts must
  // compile clean, and wrong.ts must fail, so the types are real and not `any`.
  it('a strict TypeScript program (moduleResolution nodenext) imports run, typechecks, and runs', () => {
    write(app, 'test/test_ok.sh', 'exit 0\n')
    const tsconfig = {
      compilerOptions: {
        strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: 'build', skipLibCheck: false,
        typeRoots: [join(ROOT, 'node_modules/@types')], types: ['node'],
      },
      files: ['main.ts', 'legacy.cts', 'wrong.ts'],
    }
    write(app, 'tsconfig.json', JSON.stringify(tsconfig))
    write(app, 'main.ts', [
      "import { run, listTests, ClaimrunError, type RunOptions, type RunResult, type TestList } from 'claimrun'",
      "const options: RunOptions = { paths: ['test/test_ok.sh'], workers: 1, history: false, out: 'build/run', env: { A: '1' } }",
      'const plan: TestList = listTests(options)',
      'const result: RunResult = await run(options)',
      'const passed: number = result.counts.passed',
      "console.log(JSON.stringify({ passed, planned: plan.tests.length, exitCode: result.exitCode, error: new ClaimrunError('CLAIMRUN_NO_TESTS', 'x').code }))",
      '',
    ].join('\n'))
    // The CommonJS side of the types: `import x = require()` in a .cts file.
    write(app, 'legacy.cts', "import claimrun = require('claimrun')\nexport const start: typeof claimrun.run = claimrun.run\n")
    write(app, 'wrong.ts', "import { run } from 'claimrun'\nexport const r = run({ workers: true })\n")
    const tsc = sh(process.execPath, [TSC, '-p', '.'], app, 240_000)
    const errors = tsc.stdout.split('\n').filter((l) => /error TS\d+/.test(l))
    expect(errors, tsc.stdout + tsc.stderr).toHaveLength(1)
    expect(errors[0]).toMatch(/^wrong\.ts\(2,.*error TS2322: Type 'true' is not assignable to type 'number \| "auto"/)
    // tsc still emits (noEmitOnError is off): run what main.ts became.
    const out = sh(process.execPath, ['build/main.js'], app)
    expect(out.status, out.stderr).toBe(0)
    expect(JSON.parse(out.stdout)).toEqual({ passed: 1, planned: 1, exitCode: 0, error: 'CLAIMRUN_NO_TESTS' })
  }, 300_000)

  it('require("claimrun") from CommonJS: the same API; on a Node without require(esm), run() still works', () => {
    write(app, 'test/test_ok.sh', 'exit 0\n')
    write(app, 'check.cjs', [
      "const claimrun = require('claimrun')",
      "claimrun.run({ paths: ['test/test_ok.sh'], history: false, out: 'build/cjs' }).then((r) => {",
      '  let sync',
      "  try { sync = typeof claimrun.renderSummary(r, { color: false, cwd: process.cwd() }) } catch (err) { sync = err.message }",
      '  console.log(JSON.stringify({ passed: r.counts.passed, sync }))',
      '})',
      '',
    ].join('\n'))
    const modern = sh(process.execPath, ['check.cjs'], app)
    expect(modern.stderr).toBe('')
    expect(JSON.parse(modern.stdout)).toEqual({ passed: 1, sync: 'string' })
    // What Node 20 before 20.19 does: require() of an ES module throws ERR_REQUIRE_ESM.
    const legacy = sh(process.execPath, ['--no-experimental-require-module', 'check.cjs'], app)
    expect(legacy.status, legacy.stderr).toBe(0)
    const seen = JSON.parse(legacy.stdout) as { passed: number; sync: string }
    expect(seen.passed).toBe(1)
    expect(seen.sync).toMatch(/^claimrun: renderSummary needs Node >= 20\.19 .*await import\('claimrun'\)/)
  })

  it('claimrun bench and claimrun/board work from the installed package, typed', () => {
    const r = sh(process.execPath, [join(app, 'node_modules/claimrun/dist/src/cli/main.js'), 'bench', '--threads', '1,2', '--slots', '3000', '--message-slots', '50', '--reps', '1', '--json'], app)
    expect(r.status, r.stderr).toBe(0)
    const rows = (JSON.parse(r.stdout) as { rows: Array<{ strategy: string; threads: number; missing: number }> }).rows
    expect(rows.map((x) => `${x.strategy}/${x.threads}`)).toEqual(['cursor', 'needs', 'scan', 'naive', 'postmessage', 'comlink'].flatMap((s) => [`${s}/1`, `${s}/2`]))
    expect(rows.every((x) => x.missing === 0)).toBe(true)
    write(app, 'board.ts', [
      "import { create, claim, finish, release, stats, type Board, type BoardStats } from 'claimrun/board'",
      'const board: Board = create(5, 2)',
      'const a: number = claim(board, 1)',
      'const back: boolean = release(board, a, 1)',
      'for (let s = claim(board, 2); s >= 0; s = claim(board, 2)) finish(board, s, 2)',
      'const s: BoardStats = stats(board)',
      'console.log(JSON.stringify({ a, back, s }))',
      '',
    ].join('\n'))
    write(app, 'tsconfig.board.json', JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: 'build', typeRoots: [join(ROOT, 'node_modules/@types')], types: ['node'] },
      files: ['board.ts'],
    }))
    const tsc = sh(process.execPath, [TSC, '-p', 'tsconfig.board.json'], app)
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0)
    const out = sh(process.execPath, ['build/board.js'], app)
    expect(out.status, out.stderr).toBe(0)
    expect(JSON.parse(out.stdout)).toEqual({ a: 0, back: true, s: { size: 5, lanes: 2, free: 0, running: 0, finished: 5, byLane: [0, 5] } })
    // A wrong argument is a type error: the declarations are real.
    write(app, 'board-wrong.ts', "import { create } from 'claimrun/board'\ncreate('ten', 2)\n")
    const wrong = sh(process.execPath, [TSC, '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--noEmit', '--typeRoots', join(ROOT, 'node_modules/@types'), '--types', 'node', 'board-wrong.ts'], app)
    expect(wrong.stdout).toMatch(/board-wrong\.ts.*error TS2345/)
  }, 240_000)

  it('--store without ioredis installed: one line naming the install command, exit 2 (run, report, bench)', () => {
    write(app, 'test/test_ok.sh', 'exit 0\n')
    const cli = join(app, 'node_modules/claimrun/dist/src/cli/main.js')
    for (const args of [
      ['run', 'test/test_ok.sh', '--store', 'redis://127.0.0.1:1', '--run-id', 'r1'],
      ['report', '--store', 'redis://127.0.0.1:1', '--run-id', 'r1'],
      ['bench', '--store', 'redis://127.0.0.1:1', '--strategies', 'redis', '--threads', '1', '--reps', '1'],
    ]) {
      const r = sh(process.execPath, [cli, ...args], app)
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^claimrun: --store needs the ioredis package .*: npm install --save-dev ioredis/)
    }
  })
})
