// Preloaded with --import into a real claimrun CLI process: prints its peak RSS (KiB) on exit.
// On Linux, VmHWM: the peak of this process's own memory. getrusage's ru_maxrss is not that after an
// exec: it keeps the RSS of the process that forked it (Linux carries it over), so a claimrun
// spawned straight from the harness's own ~100 MiB Node process reported ~100 MiB for one test.
import { readFileSync, writeSync } from 'node:fs'
import { isMainThread } from 'node:worker_threads'

function peakKiB() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (hwm) return Number(hwm[1])
  } catch {
    // Not Linux: ru_maxrss (KiB on Linux, bytes on macOS; only Linux is measured for the record).
  }
  return process.resourceUsage().maxRSS
}

// (Node also runs an --import in every worker thread; only the process's own exit reports.)
if (isMainThread) process.on('exit', () => writeSync(2, `\nclaimrun-bench-maxrss-kib=${peakKiB()}\n`))
