import { readFileSync } from 'node:fs'

let claimrun: string | undefined

/** claimrun's own version, from its package.json (read once, when the first result is built). */
export function claimrunVersion(): string {
  claimrun ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return claimrun
}
