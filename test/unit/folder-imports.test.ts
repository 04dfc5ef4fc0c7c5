import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempDir, write } from '../support/helpers.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
const CHECK = join(ROOT, 'scripts/check-folders.mjs')
// The checker loads typescript from the project; a tree of its own gets the project's node_modules.
const check = (root: string): { code: number | null; stderr: string } => {
  const r = spawnSync(process.execPath, [CHECK, root], { encoding: 'utf8', env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') } })
  return { code: r.status, stderr: r.stderr }
}

/** A tree with the project's layout: a table, and files that import across folders. */
function tree(table: Record<string, string[]>, files: Record<string, string>): string {
  const dir = tempDir()
  write(dir, 'scripts/folder-imports.json', JSON.stringify({ folders: table }))
  mkdirSync(join(dir, 'src'), { recursive: true })
  for (const [name, text] of Object.entries(files)) write(dir, name, text)
  return dir
}

describe('folders flow one way (scripts/check-folders.mjs, part of npm run lint)', () => {
  it('the project itself passes', () => {
    const r = check(ROOT)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })

  it('an import up the flow fails with one line naming both files and the rule', () => {
    const dir = tree(
      { 'src/vocab': [], 'src/record': ['src/vocab'] },
      { 'src/record/outcome.ts': "import type { Names } from '../vocab/names.js'\nexport type X = Names\n", 'src/vocab/names.ts': "import { statusOf } from '../record/outcome.js'\nexport type Names = typeof statusOf\n" },
    )
    const r = check(dir)
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toEqual(['src/vocab/names.ts imports src/record/outcome.ts: src/vocab may import only itself (scripts/folder-imports.json); move the shared piece down a folder'])
  })

  it('a folder without a row, and a table that allows a cycle, fail too', () => {
    const dir = tree({ 'src/a': ['src/b'], 'src/b': ['src/a'] }, { 'src/a/x.ts': 'export const x = 1\n', 'src/c/y.ts': 'export const y = 1\n' })
    const lines = check(dir).stderr.trim().split('\n')
    expect(lines).toContain('scripts/folder-imports.json: a cycle between folders: src/a -> src/b -> src/a; one of them must not import the other')
    expect(lines).toContain('src/c/y.ts: folder src/c has no row in scripts/folder-imports.json; add one saying which folders it may import')
  })
})
