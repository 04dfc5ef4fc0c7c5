// The CommonJS entry: what `require('claimrun')` loads (the package's "require" export condition).
// claimrun is an ES module. Node >= 20.19 (and >= 22.12) can require() an ES module, and then this
// file hands out that very module, so `instanceof ClaimrunError` holds whichever way it was loaded.
// On an older Node 20, run() (async anyway) loads the ES module on first call, and the synchronous
// exports say in one line how to get them.
type Api = typeof import('./index.js', { with: { 'resolution-mode': 'import' } })

function loadSync(): Api | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the point of this file: require(esm)
    return require('./index.js') as Api
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_REQUIRE_ESM') return null
    throw err
  }
}

function asyncOnly(): Api {
  const load = (): Promise<Api> => import('./index.js')
  const needsImport = (name: string) => (): never => {
    throw new Error(`claimrun: ${name} needs Node >= 20.19 to be require()d (this is ${process.version}); use \`const { ${name} } = await import('claimrun')\`, or run() which works here`)
  }
  return {
    run: async (options) => (await load()).run(options),
    listTests: needsImport('listTests'),
    generateSuite: needsImport('generateSuite'),
    renderSummary: needsImport('renderSummary'),
    get ClaimrunError(): never {
      return needsImport('ClaimrunError')()
    },
  } as Api
}

export = loadSync() ?? asyncOnly()
