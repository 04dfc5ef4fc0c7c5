/**
 * Whether to colour a stream, by the rules Node itself applies (lib/internal/util/colors.js
 * `shouldColorize` and tty `getColorDepth`), which chalk and the rest of the ecosystem share:
 *
 * - `FORCE_COLOR` set: it decides alone, TTY or not. `''`, `1`, `true`, `2`, `3` mean colour;
 *   anything else (`0`, `false`) means none. It wins over `NO_COLOR`, as in Node.
 * - otherwise: colour only on a TTY, and never with `NO_COLOR` or `NODE_DISABLE_COLORS` set (even
 *   empty, as Node reads them) or `TERM=dumb`.
 *
 * So CI logs (no TTY) get colour with `FORCE_COLOR=1`, and `NO_COLOR=1` turns a terminal plain.
 */
export function shouldColorize(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR
  if (force !== undefined) return ['', '1', 'true', '2', '3'].includes(force)
  if (!stream.isTTY) return false
  return env.NO_COLOR === undefined && env.NODE_DISABLE_COLORS === undefined && env.TERM !== 'dumb'
}
