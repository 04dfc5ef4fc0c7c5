import { ClaimrunError } from '../vocab/errors.js'
import type { Shard } from '../plan/schedule.js'

/** Far more jobs than any CI matrix runs; it also keeps the per-shard bins a small array. */
export const MAX_SHARDS = 100_000

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim())
  const index = Number(m?.[1])
  const total = Number(m?.[2])
  if (!m || total < 1 || index < 1 || index > total) {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--shard must be <i>/<n> with 1 <= i <= n, such as 2/3 (received ${JSON.stringify(text)})`)
  }
  if (total > MAX_SHARDS) {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--shard: at most ${MAX_SHARDS} shards (received ${JSON.stringify(text)}); a CI matrix has far fewer jobs, so n is likely mistyped`)
  }
  return { index, total }
}
