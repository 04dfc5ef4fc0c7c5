import { statSync } from 'node:fs'
import { readHead } from '../util/read-head.js'
import { extname } from 'node:path'
import { ClaimrunError } from '../vocab/errors.js'

/** Interpreters by extension, used when a file is not an executable with a `#!` line. */
const INTERPRETERS: Record<string, () => string[]> = {
  '.js': () => [process.execPath],
  '.mjs': () => [process.execPath],
  '.cjs': () => [process.execPath],
  '.sh': () => ['sh'],
}

/** Every kind claimrun runs without being told how: these, and `.py` and `.t` by their own rules (plan/runners.ts). */
export const RUNNABLE_EXTENSIONS = [...Object.keys(INTERPRETERS), '.py', '.t']

/** The shell operator starting at `i` of an unquoted stretch of a template, if any. */
function shellOperatorAt(template: string, i: number): string | null {
  const c = template[i] as string
  const next = template[i + 1]
  if (c === '$') return next === '(' ? '$(' : null
  if (c === '`') return c
  if (c === '&' || c === '|' || c === '>' || c === '<') return next === c ? c + c : c
  return c === ';' ? c : null
}

/** One line that refuses a template holding a bare shell operator, with the `sh -c '…'` that means what it looks like. */
function shellOperatorError(template: string, operator: string, flag: string): ClaimrunError {
  const quoted = `'${template.trim().split("'").join(`'\\''`)}'`
  return new ClaimrunError(
    'CLAIMRUN_BAD_OPTION',
    `${flag} ${JSON.stringify(template)} holds the shell operator ${JSON.stringify(operator)}, but commands run as argv, never through a shell; write ${flag} ${JSON.stringify(`sh -c ${quoted}`)} for a shell, or quote the ${JSON.stringify(operator)} to pass it as text`,
  )
}

/**
 * Splits a `--cmd` template into argv tokens with shell-like quoting, and nothing more: no
 * variables, globs or substitutions are interpreted, because no shell ever runs it.
 * 'single' quotes are literal; "double" quotes honour \" and \\; a backslash outside quotes
 * escapes the next character. A bare shell operator (`&&`, `|`, `;`, `>`, `$(`…) is refused: split
 * into argv it would silently become arguments (files named `&&` and `echo`).
 */
export function splitCommand(template: string, flag = '--cmd'): string[] {
  const tokens: string[] = []
  let token = ''
  let inToken = false
  let quote: '"' | "'" | null = null
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string
    if (quote === "'") {
      if (c === "'") quote = null
      else token += c
    } else if (quote === '"') {
      if (c === '"') quote = null
      else if (c === '\\' && (template[i + 1] === '"' || template[i + 1] === '\\')) token += template[++i]
      else token += c
    } else if (c === "'" || c === '"') {
      quote = c
      inToken = true
    } else if (c === '\\' && i + 1 < template.length) {
      token += template[++i]
      inToken = true
    } else if (shellOperatorAt(template, i)) {
      throw shellOperatorError(template, shellOperatorAt(template, i) as string, flag)
    } else if (/\s/.test(c)) {
      if (inToken) tokens.push(token)
      token = ''
      inToken = false
    } else {
      token += c
      inToken = true
    }
  }
  if (quote) {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${flag} has an unclosed ${quote} quote: close it, or escape it with a backslash`)
  }
  if (inToken) tokens.push(token)
  if (tokens.length === 0) {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `${flag} is empty: give a command such as ${flag} "${flag === '--cmd' ? 'python3 -u {file}' : 'sh scripts/start-db.sh'}"`)
  }
  return tokens
}

/** argv for a `--cmd` template: `{file}` replaced inside each token, or the file appended if no token names it. */
export function templateArgv(tokens: string[], file: string): string[] {
  const argv = tokens.map((t) => t.split('{file}').join(file))
  return tokens.some((t) => t.includes('{file}')) ? argv : [...argv, file]
}

export function startsWithShebang(file: string): boolean {
  const head = readHead(file, Buffer.alloc(4))
  // "#!" scripts, and ELF binaries, are run as they are.
  return head !== null && ((head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) || head.toString('latin1') === '\x7fELF')
}

export const isExecutable = (mode: number): boolean => (mode & 0o111) !== 0

/**
 * The argv that runs one test file (an absolute path, so a name that starts with `-` is never read
 * as an option). An executable with a `#!` line (or a binary) runs directly; otherwise the
 * extension picks the interpreter; an executable without either still runs directly.
 */
export function argvFor(file: string, id: string): string[] {
  const mode = statSync(file).mode
  const executable = isExecutable(mode)
  if (executable && startsWithShebang(file)) return [file]
  const interpreter = INTERPRETERS[extname(file).toLowerCase()]
  // concat: an array of just its length; a spread's has room for ~20 (each plan entry keeps its argv all run).
  if (interpreter) return interpreter().concat(file)
  if (executable) return [file]
  throw new ClaimrunError(
    'CLAIMRUN_UNKNOWN_TYPE',
    `don't know how to run ${JSON.stringify(id)}: not executable and not ${RUNNABLE_EXTENSIONS.join('/')}; make it executable, add a runner (--runner '*${extname(id) || '.ext'}=<interpreter> {file}'), or pass --cmd "<interpreter> {file}"`,
  )
}
