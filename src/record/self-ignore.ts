import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'

const IGNORE_ALL = '# Written by claimrun: run files and history are not source, so this folder ignores itself.\n*\n'

/**
 * Makes `<cwd>/.claimrun/` ignore itself in git (a `.gitignore` holding `*`, as pytest and mypy do
 * with their caches) when a run writes there, so adopting claimrun adds nothing to `git status`.
 * Only the default folder: a user who chose another `--out` chose where it goes. Best effort.
 */
export function ignoreClaimrunDir(cwd: string, paths: Array<string | null>): void {
  const dir = join(cwd, '.claimrun')
  const inside = (p: string | null): boolean => {
    if (p === null) return false
    const rel = relative(dir, p)
    return rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel)
  }
  if (!paths.some(inside)) return
  const file = join(dir, '.gitignore')
  if (existsSync(file)) return
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(file, IGNORE_ALL, { flag: 'wx' })
  } catch {
    // Another run wrote it first, or the folder is read-only: either way nothing to add.
  }
}
