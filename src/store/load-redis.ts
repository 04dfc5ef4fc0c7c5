import { ClaimrunError } from '../vocab/errors.js'

/** What to do when a shared run is asked for without the Redis client installed. */
export const IOREDIS_MISSING = '--store needs the ioredis package (an optional peer dependency of claimrun): npm install --save-dev ioredis'

/**
 * Imports a module that needs ioredis (the shared-run store, `claimrun report`). ioredis is an
 * optional peer dependency, so a project that never shares a run does not install it;
 * asking for a shared run without it is a usage error naming the install command, never a stack.
 */
export async function withRedis<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    const e = err as NodeJS.ErrnoException | undefined
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && /['"]ioredis['"]/.test(e.message)) {
      throw new ClaimrunError('CLAIMRUN_BAD_OPTION', IOREDIS_MISSING, { cause: err })
    }
    throw err
  }
}
