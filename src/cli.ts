#!/usr/bin/env node
/**
 * The `claimrun` command. A worker thread takes ~30 ms to boot, as long as loading the rest of
 * claimrun; so for `claimrun run` the pool's first thread is started here, before anything else is
 * loaded, and the two overlap. Everything else lives in cli-main.ts.
 */
import { createPool } from './worker-pool.js'

const runs = process.argv[2] === 'run' && !process.argv.includes('--die-on') && !process.argv.some((a) => a === '-h' || a === '--help')
const pool = runs ? createPool(1, 1024) : undefined
const { main } = await import('./cli-main.js')
await main(pool)
