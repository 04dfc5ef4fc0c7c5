import { describe, expect, it } from 'vitest'
import { runCli, tempDir, write } from '../support/helpers.js'

describe('help and usage errors', () => {
  it('bare claimrun prints the help on stdout and exits 0', async () => {
    const r = await runCli([], { cwd: tempDir() })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^Usage: claimrun \[options\] \[command\]/)
    expect(r.stdout).toContain('claimrun run --help')
    expect(r.stdout).not.toContain('outputHelp')
  })

  it("claimrun run --help lists run's options", async () => {
    const r = await runCli(['run', '--help'], { cwd: tempDir() })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    for (const flag of ['--workers', '--cmd', '--pattern', '--timeout', '--retries', '--shard', '--store']) expect(r.stdout).toContain(flag)
  })

  for (const [what, args, message] of [
    ['an unknown option', ['run', 't', '--bogus'], /^claimrun: unknown option '--bogus' \(see claimrun run --help\)$/],
    ['a bad value', ['run', 't', '--workers', '0'], /^claimrun: --workers must be a whole number from 1 to 1024, or auto \(\d+ here: the CPUs available\) \(received "0"\) \(see claimrun run --help\)$/],
    ['an unknown command', ['frobnicate'], /^claimrun: unknown command 'frobnicate' \(see claimrun --help\)$/],
  ] as const) {
    it(`${what} points at the help that lists the options`, async () => {
      const dir = tempDir()
      write(dir, 't/test_a.sh', 'exit 0\n')
      const r = await runCli([...args], { cwd: dir })
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trim()).toMatch(message)
    })
  }
})
