// Runs a suite through the API in a process of its own and prints that process's peak RSS (KiB),
// so a test can compare the runner's memory on a flood against a quiet run.
import { readFileSync } from 'node:fs'
import { run } from 'claimrun'

// VmHWM, this process's own peak. Not ru_maxrss: after an exec Linux keeps in it the RSS of the
// process that forked this one (here the test runner's, often larger than either run), which would
// make a flood and a quiet run look alike.
function peakKiB() {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS
}

const [cwd, path, out, maxOutput] = process.argv.slice(2)
const result = await run({ paths: [path], cwd, out, workers: 1, ...(maxOutput ? { maxOutput: Number(maxOutput) } : {}) })
process.stdout.write(JSON.stringify({ maxRssKiB: peakKiB(), tests: result.tests }) + '\n')
