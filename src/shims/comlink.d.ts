// comlink ships its ESM build as .mjs next to a .d.ts that NodeNext resolution does not pair with
// it; these re-declare the same types for the ESM paths we import (one build on both sides).
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink'
}
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink'
  import type { MessagePort, Worker } from 'node:worker_threads'
  export default function nodeEndpoint(nep: MessagePort | Worker): Endpoint
}
