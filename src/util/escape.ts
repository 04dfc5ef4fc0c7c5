/**
 * Any character the functions below change (CR, newline and tab included): text without one, as
 * nearly every test id and most lines are, is returned as it is, after one scan instead of a
 * replace per kind (ids are escaped a few times per test, in the worker and the reporters).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/**
 * Makes text printed by a test safe to show in a terminal: every control character except newline
 * and tab becomes a visible `\xNN`, so output cannot move the cursor, clear the screen or fake a
 * line of claimrun's own. CRLF line ends are kept as plain newlines.
 */
export function escapeControl(text: string): string {
  if (!CONTROL.test(text)) return text
  return text
    .replace(/\r\n/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** A single-line form of a name (test ids may hold newlines). */
export function escapeLine(text: string): string {
  if (!CONTROL.test(text)) return text
  return escapeControl(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t')
}
