import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ClaimrunError } from '../errors.js'

/** Files a run writes into its out folder; only these are cleared before a run (never the folder). */
const OWNED = /^(worker\d+\.log|summary\.txt|results\.json|report\.html|runner-died\.txt|.*\.claimrun-tmp)$/

/** Makes the out folder ready: created, writable, and cleared of the previous run's files. */
export function prepareOut(out: string): void {
  try {
    mkdirSync(out, { recursive: true })
    for (const name of readdirSync(out)) if (OWNED.test(name)) rmSync(join(out, name), { force: true })
    writeAtomic(join(out, '.write-check'), '')
    rmSync(join(out, '.write-check'), { force: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err)
    throw new ClaimrunError('CLAIMRUN_OUT_NOT_WRITABLE', `cannot write to --out ${JSON.stringify(out)} (${code}); choose a writable folder with --out <dir>`, { cause: err })
  }
}

/** Writes a file so that readers see the old content or the new, never half of it: temp file, then rename. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.claimrun-tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}
