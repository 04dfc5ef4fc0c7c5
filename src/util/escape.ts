/**
 * Makes text printed by a test safe to show in a terminal: every control character except newline
 * and tab becomes a visible `\xNN`, so output cannot move the cursor, clear the screen or fake a
 * line of claimrun's own. CRLF line ends are kept as plain newlines.
 */
export function escapeControl(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** A single-line form of a name (test ids may hold newlines). */
export function escapeLine(text: string): string {
  return escapeControl(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t')
}
