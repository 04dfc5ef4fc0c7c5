import { connect, createServer, type Socket } from 'node:net'
import { onTestFinished } from 'vitest'

/**
 * A TCP proxy to a local port that can cut one client off the network: `cut()` drops every
 * connection and refuses new ones, as a partition would (the server itself stays up for others).
 * `loseAnswerTo(text)`: the next request holding `text` reaches the server, but the connection
 * drops before its answer comes back (new connections are still let through).
 */
export async function startProxy(targetPort: number): Promise<{ url: string; cut: () => void; loseAnswerTo: (text: string) => Promise<void> }> {
  const sockets = new Set<Socket>()
  let open = true
  let lose: { text: string; lost: () => void } | null = null
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
    let losing: (() => void) | null = null
    client.on('data', (chunk: Buffer) => {
      if (lose && chunk.includes(lose.text)) {
        losing = lose.lost
        lose = null
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!losing) return void client.write(chunk)
      client.destroy()
      upstream.destroy()
      losing()
    })
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const cut = (): void => {
    open = false
    server.close()
    for (const s of sockets) s.destroy()
  }
  onTestFinished(cut)
  const { port } = server.address() as { port: number }
  const loseAnswerTo = (text: string): Promise<void> => new Promise((lost) => (lose = { text, lost }))
  return { url: `redis://127.0.0.1:${port}/0`, cut, loseAnswerTo }
}
