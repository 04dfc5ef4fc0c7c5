// Where a run's fixed cost goes, phase by phase: runs `claimrun run` with CLAIMRUN_TRACE=1 (see
// src/util/trace.ts) a number of times and prints, for each traced phase, the median ms after the
// spawn (CLOCK_MONOTONIC in both processes), plus the process's exit.
//   node bench/support/trace-startup.mjs [--reps 11] [--cli dist/src/cli/bin.cjs] -- <claimrun run args>
// Run it in the folder of the tests; NODE_EXTRA_CA_CERTS is removed as in the harness.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const argv = process.argv.slice(2)
const dash = argv.indexOf('--')
const own = dash >= 0 ? argv.slice(0, dash) : argv
const runArgs = dash >= 0 ? argv.slice(dash + 1) : []
const opt = (name, dflt) => (own.includes(name) ? own[own.indexOf(name) + 1] : dflt)
const reps = Number(opt('--reps', 11))
// The package's own command by default (its `bin`), as the benchmarks and the tests run it.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
const cli = opt('--cli', fileURLToPath(new URL(`../../${pkg.bin.claimrun}`, import.meta.url)))
const env = { ...process.env, CLAIMRUN_TRACE: '1' }
delete env.NODE_EXTRA_CA_CERTS

const mono = () => Number(process.hrtime.bigint()) / 1e6

function once() {
  return new Promise((resolve, reject) => {
    const t0 = mono()
    const child = spawn(process.execPath, [cli, 'run', ...runArgs], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('exit', () => {
      const exited = mono() - t0
      child.on('close', () => {
        const rows = []
        const pids = new Map()
        for (const line of err.split('\n')) {
          const m = /^claimrun-trace (\d+)\/(\d+) ([\d.]+) (.*)$/.exec(line)
          if (!m) continue
          if (!pids.has(m[1])) pids.set(m[1], pids.size === 0 ? '' : 'wd ')
          const who = pids.get(m[1]) + (m[2] === '0' ? '' : `t${m[2]} `)
          rows.push({ label: `${who}${m[4]}`.replace(/slot \d+ lane \d+|slot \d+|lane \d+/, (s) => s), at: Number(m[3]) - t0 })
        }
        rows.push({ label: 'process exited', at: exited })
        resolve(rows)
      })
    })
  })
}

const all = new Map()
for (let r = 0; r < reps; r++) {
  const seen = new Map()
  for (const { label, at } of await once()) {
    // The n-th occurrence of a label in a run is its own row.
    const n = (seen.get(label) ?? 0) + 1
    seen.set(label, n)
    const key = n === 1 ? label : `${label} #${n}`
    if (!all.has(key)) all.set(key, [])
    all.get(key).push(at)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = [...all].map(([label, ats]) => ({ label, ms: median(ats), n: ats.length })).sort((a, b) => a.ms - b.ms)
for (const { label, ms, n } of rows) console.log(`${ms.toFixed(1).padStart(8)} ms  ${label}${n < reps ? `  (${n} of ${reps} runs)` : ''}`)
