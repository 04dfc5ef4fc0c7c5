import { closeSync, openSync, readSync } from 'node:fs'

/**
 * The first bytes of a file, read into `into` (at most its length): the part of `into` filled, or
 * null when the file cannot be read (running it will say why).
 */
export function readHead(file: string, into: Buffer): Buffer | null {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return null
  }
  try {
    return into.subarray(0, readSync(fd, into, 0, into.length, 0))
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}
