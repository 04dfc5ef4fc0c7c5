// Runs a suite through the API in a process of its own and prints that process's peak RSS (KiB),
// so a test can compare the runner's memory on a flood against a quiet run.
import { run } from 'claimrun'

const [cwd, path, out, maxOutput] = process.argv.slice(2)
const result = await run({ paths: [path], cwd, out, workers: 1, ...(maxOutput ? { maxOutput: Number(maxOutput) } : {}) })
process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, tests: result.tests }) + '\n')
