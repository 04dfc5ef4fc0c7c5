/**
 * Node 22.1 and later keep V8's compiled code of the modules a process loads, in a cache folder
 * under the system's temporary folder (made and checked by Node itself): the next `claimrun` skips
 * compiling its bundles again. Imported first by bin.ts, so that it covers everything after it.
 * Node 20 has no such cache (module.enableCompileCache is absent there): nothing happens.
 */
import * as nodeModule from 'node:module'

try {
  ;(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.()
} catch {
  // An unwritable temporary folder: Node then compiles as usual.
}
