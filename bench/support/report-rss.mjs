// Preloaded with --import into a real claimrun CLI process: prints its peak RSS (KiB) on exit.
import { writeSync } from 'node:fs'
process.on('exit', () => writeSync(2, `\nclaimrun-bench-maxrss-kib=${process.resourceUsage().maxRSS}\n`))
