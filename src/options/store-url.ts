import { ClaimrunError } from '../vocab/errors.js'

const EXAMPLE = 'redis://127.0.0.1:6379/0'

/**
 * The database index in a store URL (`redis://host:port/3` → 3; none → 0). ioredis takes whatever
 * follows the `/` and, when the server refuses the SELECT, stays on db 0 without a word, so the
 * path is checked here and the index is selected explicitly once connected.
 */
export function storeDb(url: string): number {
  const path = new URL(url).pathname
  return path === '' || path === '/' ? 0 : Number(path.slice(1))
}

/** `--store`: a redis:// or rediss:// URL whose path, if any, is a database index. Returns it unchanged. */
export function checkStoreUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--store must be a URL such as ${EXAMPLE} (received ${JSON.stringify(url)})`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--store must start with redis:// or rediss:// (received ${JSON.stringify(url)})`)
  }
  const path = parsed.pathname
  if (path !== '' && path !== '/' && !/^\/\d{1,9}$/.test(path)) {
    throw new ClaimrunError('CLAIMRUN_BAD_OPTION', `--store: ${JSON.stringify(path)} after the address must be a database number, such as /0 (Redis has databases 0-15 unless configured otherwise)`)
  }
  return url
}
