import { mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

/**
 * `mkdir -p` that always ends: finds the nearest folder that exists, then creates each missing
 * one below it, once. (mkdirSync's own recursive mode spun forever, uninterruptible, on a path
 * under /proc, where mkdir answers ENOENT for a parent that stat says exists.) Throws the errno
 * of the first step that fails; a file where a folder should be is ENOTDIR.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = []
  for (let d = resolve(dir); ; d = dirname(d)) {
    const st = statSync(d, { throwIfNoEntry: false })
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a folder: ${d}`), { code: 'ENOTDIR', path: d })
      break
    }
    missing.push(d)
    if (dirname(d) === d) break
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d)
    } catch (err) {
      // Another process made it meanwhile: as good as made.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
}
