// What the figures were measured in, printed first and written into RESULTS.md: on a shared 2-core
// machine the load average decides how far wall-clock ratios can be trusted.
import { cpus, getPriority, loadavg, totalmem } from 'node:os'
import { CPU_METHOD } from './support/measure.mjs'
import { BASELINE, EXTRA_NODES, THIS_NODE } from './support/runners.mjs'

export const loadNow = () => loadavg().map((x) => x.toFixed(2)).join(', ')

export function environment() {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform}`
  const certs = process.env.NODE_EXTRA_CA_CERTS
    ? 'NODE_EXTRA_CA_CERTS is set here and was removed for every tool measured (it slows each node start)'
    : 'NODE_EXTRA_CA_CERTS is not set here (and would have been removed for every tool measured)'
  const lines = [
    `Machine: ${machine}; ${cpus().length} cores.`,
    `Node: ${THIS_NODE.version} (${THIS_NODE.bin})${EXTRA_NODES.map((n) => `; also ${n.version} (${n.bin})`).join('')}.`,
    `Environment: ${certs}; NODE_OPTIONS ${process.env.NODE_OPTIONS ? `= ${process.env.NODE_OPTIONS}` : 'not set'}.`,
    `Harness priority (nice): ${getPriority()}; children inherit it.`,
    `CPU time: ${CPU_METHOD}.`,
    `"Before" build: ${BASELINE ?? 'none (set CLAIMRUN_BENCH_BASELINE to an older build\'s cli.js)'}.`,
    `Load average (1, 5, 15 min) at the start: ${loadNow()}.`,
  ]
  return { machine, lines, loadStart: loadNow(), loadEnd: null }
}
