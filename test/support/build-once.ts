import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SOURCES = ['src', 'workers', 'assets', 'package.json', 'tsconfig.json']

function newest(path: string): number {
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  return Math.max(st.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))))
}

/**
 * vitest's global setup: the tests exercise the build (dist/, what users install), so a run of
 * `npx vitest` on sources newer than the build builds first, once, instead of testing stale code.
 * `npm test` has just built, so this is then a no-op.
 */
export default function buildOnce(): void {
  const marker = join(ROOT, 'dist/src/index.js')
  const stale = !existsSync(marker) || Math.max(...SOURCES.map((p) => newest(join(ROOT, p)))) > statSync(marker).mtimeMs
  if (stale) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
}
