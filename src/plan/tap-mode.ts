import { extname } from 'node:path'
import type { TapMode } from '../lanes/protocol.js'

/**
 * The TAP mode a test file gets by its kind: a `.t` file's output is TAP whatever it prints, as prove
 * reads it; any other file's is TAP only when it says so (the default, left out of the plan entry).
 */
export const tapModeOf = (file: string): TapMode | undefined => (extname(file) === '.t' ? 'strict' : undefined)
