import { connect, createServer, type Socket } from 'node:net'
import { onTestFinished } from 'vitest'

/**
 * A TCP proxy to a local port that can cut one client off the network: `cut()` drops every
 * connection and refuses new ones, as a partition would (the server itself stays up for others).
 */
export async function startProxy(targetPort: number): Promise<{ url: string; cut: () => void }> {
  const sockets = new Set<Socket>()
  let open = true
  const server = createServer((client) => {
    if (!open) {
      client.destroy()
      return
    }
    const upstream = connect(targetPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const cut = (): void => {
    open = false
    server.close()
    for (const s of sockets) s.destroy()
  }
  onTestFinished(cut)
  const { port } = server.address() as { port: number }
  return { url: `redis://127.0.0.1:${port}/0`, cut }
}
