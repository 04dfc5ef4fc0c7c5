/**
 * `--bail [n]` takes only a number. commander gives an option with an optional value the next
 * argument whenever it does not start with `-`, so `claimrun run --bail t` would read `t` as n;
 * here such an argument stays a path (`--bail` then means its default, 1).
 */

/** Whether an argument is a value for `--bail` (a number, checked as a whole number later). */
export const isBailValue = (arg: string | undefined): boolean => arg !== undefined && arg.trim() !== '' && Number.isFinite(Number(arg))

/** `claimrun run` arguments with a non-numeric argument after `--bail` left to be a path. */
export function pathAfterBail(argv: readonly string[]): string[] {
  const out = [...argv]
  for (let i = 0; i < out.length - 1; i++) {
    if (out[i] === '--') break
    if (out[i] === '--bail' && !(out[i + 1] as string).startsWith('-') && !isBailValue(out[i + 1])) out[i] = '--bail=1'
  }
  return out
}
