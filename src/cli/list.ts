import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { listTests, renderList } from '../list.js'
import type { RunOptions } from '../vocab/types.js'

/** `claimrun run --list [--json [file]]`: the plan, as a table or as JSON; nothing runs, nothing is written. */
export function listCommand(options: RunOptions, json: unknown): void {
  const list = listTests(options)
  if (json === undefined) {
    for (const w of list.warnings) process.stderr.write(`claimrun: warning: ${w}\n`)
    process.stdout.write(renderList(list))
    return
  }
  const text = JSON.stringify(list, null, 2) + '\n'
  if (typeof json === 'string') writeFileSync(resolve(options.cwd ?? process.cwd(), json), text)
  else process.stdout.write(text)
}
