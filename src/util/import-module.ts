/**
 * import() for the CLI's bundles. main.cjs is compiled through V8's code cache (util/code-cache.ts),
 * that is through vm.Script, where an import() of its own has no module loader on Node 20 (the one
 * way to give it Node's is experimental and says so on stderr). This module is loaded as usual
 * (from early.cjs, which bin.cjs require()s), so the import() here is Node's own, resolved from
 * the same folder as main.cjs. The build checks that no import() is left in a cached bundle.
 */
export function importModule<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>
}
