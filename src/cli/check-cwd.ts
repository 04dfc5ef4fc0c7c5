/**
 * Imported first of all by bin.ts: every command resolves paths against the current folder, and
 * Node's process.cwd() throws (with a stack trace) when that folder has been deleted or moved away
 * from under the shell. Said once here, as bad usage: one line, exit 2, nothing run.
 */
import { writeSync } from 'node:fs'

try {
  process.cwd()
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code ?? 'error'
  try {
    writeSync(2, `claimrun: the current folder no longer exists (${code}): cd into an existing folder and run the command again\n`)
  } catch {
    // No stderr either: the exit code says it.
  }
  process.exit(2)
}
