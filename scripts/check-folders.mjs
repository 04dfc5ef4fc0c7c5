/**
 * Folders flow one way: each folder of src/ and workers/ may import only the folders its row of
 * the table in folder-imports.json names (and itself). A file that imports a folder its row does
 * not allow fails the check with one line naming both files and the rule; so does a folder the
 * table does not know, so that a new folder gets a row before it gets code, and a table whose rows
 * allow a cycle between folders.
 *
 * Usage: node scripts/check-folders.mjs [root]   (root defaults to the repository)
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const table = JSON.parse(readFileSync(join(root, 'scripts/folder-imports.json'), 'utf8'))
const rules = table.folders

/** The folder a file belongs to, as the table names it: `src/plan`, `workers`, or `src` for src/'s own files. */
const folderOf = (file) => {
  const parts = relative(root, file).split(sep)
  return parts[0] === 'src' && parts.length > 2 ? `src/${parts[1]}` : parts[0]
}

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name)
    if (statSync(full).isDirectory()) yield* sources(full)
    else if (/\.(?:ts|mts|cts)$/.test(name) && !name.endsWith('.d.ts')) yield full
  }
}

const problems = []

// The table itself flows one way: no folder may reach itself through what it allows.
for (const start of Object.keys(rules)) {
  const seen = new Set()
  const walk = (folder, path) => {
    for (const next of rules[folder] ?? []) {
      if (next === start) problems.push(`scripts/folder-imports.json: a cycle between folders: ${[...path, next].join(' -> ')}; one of them must not import the other`)
      else if (!seen.has(next)) {
        seen.add(next)
        walk(next, [...path, next])
      }
    }
  }
  walk(start, [start])
}

for (const top of ['src', 'workers']) {
  let dirExists = true
  try {
    statSync(join(root, top))
  } catch {
    dirExists = false
  }
  if (!dirExists) continue
  for (const file of sources(join(root, top))) {
    const from = folderOf(file)
    const allowed = rules[from]
    const rel = relative(root, file)
    if (!allowed) {
      problems.push(`${rel}: folder ${from} has no row in scripts/folder-imports.json; add one saying which folders it may import`)
      continue
    }
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue
      const target = resolve(dirname(file), fileName)
      const to = folderOf(target)
      if (to === from || allowed.includes(to)) continue
      const source = target.replace(/\.(c|m)?js$/, '.$1ts')
      problems.push(`${rel} imports ${relative(root, existsSync(source) ? source : target)}: ${from} may import only ${allowed.length ? allowed.join(', ') : 'itself'} (scripts/folder-imports.json); move the shared piece down a folder`)
    }
  }
}

if (problems.length) {
  for (const p of problems) console.error(p)
  process.exit(1)
}
