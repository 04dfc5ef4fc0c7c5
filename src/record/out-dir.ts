import { renameSync, rmSync, writeFileSync } from 'node:fs'

/**
 * Writes a file so that readers see the old content or the new, never half of it: temp file, then
 * rename. A write that fails takes its temp file with it.
 */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.claimrun-tmp`
  try {
    writeFileSync(tmp, text)
    renameSync(tmp, path)
  } catch (err) {
    try {
      rmSync(tmp, { force: true })
    } catch {
      // Never created: its folder is gone or not a folder.
    }
    throw err
  }
}
