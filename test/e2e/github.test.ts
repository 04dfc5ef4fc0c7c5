import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir, write } from '../support/helpers.js'

/** Output that tries every escape: %, CR, `:` and `,`, a workflow command, backtick fences, HTML. */
const NASTY = ['100% sure: a,b', 'carriage\rreturn', '::add-mask::not-a-secret', '```', '`````js', '<script>alert(1)</script> | cell']

/** Reads a workflow command back the way the Actions runner does (its escape rules reversed). */
function parseCommand(line: string): { kind: string; props: Record<string, string>; message: string } {
  const m = /^::(\w+) ([^:]*)::(.*)$/.exec(line)
  if (!m) throw new Error(`not a workflow command: ${line}`)
  const unData = (s: string): string => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
  const unProp = (s: string): string => unData(s.replace(/%3A/g, ':').replace(/%2C/g, ','))
  const props = Object.fromEntries(m[2]!.split(',').map((p) => [p.slice(0, p.indexOf('=')), unProp(p.slice(p.indexOf('=') + 1))]))
  return { kind: m[1]!, props, message: unData(m[3]!) }
}

function suite(dir: string): void {
  write(dir, 't/test_ok.sh', 'exit 0\n')
  write(dir, 't/test_a,b:c.sh', `printf '%s\\n' ${NASTY.map((l) => `'${l.replace(/'/g, `'"'"'`)}'`).join(' ')}\nexit 3\n`)
  write(dir, 't/test_plain.sh', 'echo first line\necho second line\nexit 1\n')
  // TAP that fails although the script exits 0: the annotation names the failing sub-test.
  write(dir, 't/test_tap.sh', "printf '1..2\\nok 1 - one\\nnot ok 2 - the second\\n'\n")
}

describe('GitHub Actions', () => {
  it('GITHUB_ACTIONS=true: one ::error per failing test, escaped as the runner decodes, and a Markdown job summary appended', async () => {
    const dir = tempDir()
    suite(dir)
    const stepSummary = join(dir, 'step-summary.md')
    writeFileSync(stepSummary, '# an earlier step\n')
    const r = await runCli(['run', 't', '--out', 'out', '--no-history', '-w', '2'], { cwd: dir, env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary, GITHUB_WORKSPACE: dir } })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('')
    const lines = r.stdout.split('\n')

    // Command processing is paused around the summary, which shows what tests printed.
    const stop = lines.findIndex((l) => l.startsWith('::stop-commands::'))
    const token = lines[stop]!.slice('::stop-commands::'.length)
    expect(token).toMatch(/^[0-9a-f]{24}$/)
    const resume = lines.indexOf(`::${token}::`)
    expect(resume).toBeGreaterThan(stop)
    const mask = lines.findIndex((l) => l.includes('::add-mask::'))
    expect(mask).toBeGreaterThan(stop)
    expect(mask).toBeLessThan(resume)

    const commands = lines.filter((l) => /^::(error|warning) /.test(l)).map(parseCommand)
    expect(commands.map((c) => [c.kind, c.props.file]).sort()).toEqual([['error', 't/test_a,b:c.sh'], ['error', 't/test_plain.sh'], ['error', 't/test_tap.sh']])
    expect(commands.find((c) => c.props.file === 't/test_tap.sh')!.message).toMatch(/^failed \(worker0\d, exit 0, .*\)\n1\/2 sub-tests passed; failing: the second\n/)
    const nasty = commands.find((c) => c.props.file === 't/test_a,b:c.sh')!
    expect(nasty.props.title).toBe('claimrun: failed: t/test_a,b:c.sh')
    const [head, ...output] = nasty.message.split('\n')
    expect(head).toMatch(/^failed \(worker0\d, exit 3, \d+ ms\)$/)
    // The output's lines, control characters shown (CR as \x0d) rather than acted on.
    expect(output).toEqual(NASTY.map((l) => l.replace('\r', '\\x0d')))
    // Every annotation is one line of stdout: nothing in a message broke out of it.
    for (const l of lines.filter((x) => x.startsWith('::error'))) expect(l).not.toMatch(/[\r\n]/)
    expect(commands.find((c) => c.props.file === 't/test_plain.sh')!.message).toMatch(/^failed \(.*\)\nfirst line\nsecond line$/)

    // The job summary: appended, and read by a real Markdown parser as GitHub would.
    const md = readFileSync(stepSummary, 'utf8')
    expect(md.startsWith('# an earlier step\n## claimrun: ❌ 1 passed, 3 failed')).toBe(true)
    const html = new MarkdownIt({ html: true }).render(md)
    expect(html).not.toContain('<script>') // output stays text even where Markdown allows HTML
    const blocks = [...html.matchAll(/<pre><code class="language-text">([\s\S]*?)<\/code><\/pre>/g)].map((m) => m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'))
    expect(blocks).toContain(`${NASTY.map((l) => l.replace('\r', '\\x0d')).join('\n')}\n`)
    expect(blocks).toContain('first line\nsecond line\n')
    expect(blocks.some((b) => /^run \(serial\)[\s\S]*└── summary {2}4 tests\n$/.test(b))).toBe(true) // the pipeline
    expect(html).toMatch(/<h3>Failures \(3\)<\/h3>/)
    expect(html).toContain('<p>1/2 sub-tests passed; failing: the second</p>')
    // The slowest table has 4 rows of 4 cells: the `,` and `:` in a name break nothing.
    const table = /<h3>Slowest 4<\/h3>\s*<table>([\s\S]*?)<\/table>/.exec(html)![1]!
    const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].slice(1)
    expect(rows).toHaveLength(4)
    for (const row of rows) expect(row[1]!.match(/<td/g)).toHaveLength(4)
    expect(html).toContain('<code>t/test_a,b:c.sh</code>')
  })

  it('a name with a backtick and a pipe stays one code span and one table cell', async () => {
    const dir = tempDir()
    write(dir, 't/test_`x`|y.sh', 'echo no\nexit 1\n')
    const stepSummary = join(dir, 'step-summary.md')
    const r = await runCli(['run', 't', '--out', 'out', '--no-history'], { cwd: dir, env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary } })
    expect(r.code).toBe(1)
    const html = new MarkdownIt().render(readFileSync(stepSummary, 'utf8'))
    expect(html).toContain('<h4><code>t/test_`x`|y.sh</code>')
    const table = /<h3>Slowest 1<\/h3>\s*<table>([\s\S]*?)<\/table>/.exec(html)![1]!
    expect(table).toContain('<td><code>t/test_`x`|y.sh</code></td>')
  })

  it('a failed --setup: one ::error naming the setup (not a quiet run of skipped tests), a job summary that says so, the one-line error and exit 2', async () => {
    const dir = tempDir()
    suite(dir)
    const stepSummary = join(dir, 'step-summary.md')
    const r = await runCli(['run', 't', '--out', 'out', '--no-history', '--setup', 'sh -c "echo no database; exit 4"'], { cwd: dir, env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary } })
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([`claimrun: --setup "sh -c 'echo no database; exit 4'" failed (exit 4), so no test was run (all notrun); its output is in out/setup.log`])
    const commands = r.stdout.split('\n').filter((l) => /^::(error|warning) /.test(l)).map(parseCommand)
    expect(commands).toEqual([{
      kind: 'error',
      props: { title: 'claimrun: setup failed' },
      message: `--setup "sh -c 'echo no database; exit 4'" failed (exit 4), so no test was run (4 tests not run); its output is in setup.log in the out folder`,
    }])
    const summary = readFileSync(stepSummary, 'utf8')
    expect(summary).toMatch(/^## claimrun: ❌ 0 passed, 0 failed, 4 skipped \(4 notrun\)/m)
    expect(new MarkdownIt().render(summary)).toContain('<strong>Setup failed:</strong> --setup &quot;sh -c \'echo no database; exit 4\'&quot; failed (exit 4)')
  })

  it('without GITHUB_ACTIONS=true: no workflow commands, the summary file untouched; an unwritable one is a warning, not a failure', async () => {
    const dir = tempDir()
    suite(dir)
    const stepSummary = join(dir, 'step-summary.md')
    writeFileSync(stepSummary, 'before\n')
    const plain = await runCli(['run', 't', '--out', 'out', '--no-history'], { cwd: dir, env: { GITHUB_STEP_SUMMARY: stepSummary } })
    expect(plain.code).toBe(1)
    expect(plain.stdout).not.toMatch(/^::/m)
    expect(readFileSync(stepSummary, 'utf8')).toBe('before\n')

    const blocked = await runCli(['run', 't', '--out', 'out', '--no-history'], { cwd: dir, env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: join(dir, 'no/such/dir/summary.md') } })
    expect(blocked.code).toBe(1)
    expect(blocked.stdout.match(/^::error /gm)).toHaveLength(3)
    expect(blocked.stderr.trim()).toMatch(/^claimrun: could not append the job summary to GITHUB_STEP_SUMMARY \(.*no\/such\/dir\/summary\.md\): ENOENT$/)
  })
})

describe('colour, as Node decides it (FORCE_COLOR, NO_COLOR, TTY)', () => {
  const RED = '\u001b[31m'
  for (const [env, colored] of [
    [{ FORCE_COLOR: '1' }, true],
    [{ FORCE_COLOR: '' }, true],
    [{ FORCE_COLOR: '3' }, true],
    [{ FORCE_COLOR: '1', NO_COLOR: '1' }, true], // FORCE_COLOR wins, as in Node
    [{ FORCE_COLOR: '0' }, false],
    [{ FORCE_COLOR: 'false' }, false],
    [{ NO_COLOR: undefined }, false], // a pipe, no FORCE_COLOR
  ] as const) {
    it(`${JSON.stringify(env)} through a pipe: ${colored ? 'colour' : 'plain'}`, async () => {
      const dir = tempDir()
      write(dir, 't/test_fail.sh', 'echo no\nexit 1\n')
      const unset: NodeJS.ProcessEnv = { NO_COLOR: undefined, FORCE_COLOR: undefined }
      const r = await runCli(['run', 't', '--out', 'out', '--no-history'], { cwd: dir, env: { ...unset, ...env } })
      expect(r.code).toBe(1)
      if (colored) expect(r.stdout).toContain(`${RED}failed`)
      else expect(r.stdout).not.toContain('\u001b')
      // Files never get colour.
      expect(readFileSync(join(dir, 'out', 'summary.txt'), 'utf8')).not.toContain('\u001b')
    })
  }
})
