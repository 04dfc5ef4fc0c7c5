import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'

/** A port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * A real redis-server of the test's own on a loopback port (never mocked), stopped when the test
 * ends. `.ci/run` installs the Debian package; extra arguments set a password or TLS.
 */
export async function startRedis(dir: string, extra: string[] = [], { tls = false, port: wanted = 0 } = {}): Promise<{ port: number; url: string; server: ChildProcess }> {
  const port = wanted || (await freePort())
  const args = tls
    ? ['--port', '0', '--tls-port', String(port), ...extra]
    : ['--port', String(port), ...extra]
  const server = spawn('redis-server', [...args, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  onTestFinished(() => {
    server.kill('SIGKILL')
  })
  let log = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 10_000)
    server.stdout.on('data', (d) => {
      log += d
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    server.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited ${code}:\n${log}`))
    })
  })
  return { port, url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}/0`, server }
}

/** A CA and a server certificate for 127.0.0.1, made with openssl for a TLS test. */
export function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`)
  }
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=claimrun-test-ca')
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
  spawnSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > ext.cnf'], { cwd: dir })
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf')
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') }
}

/** Kills a redis-server the hard way (its data is gone with it) and resolves once it has exited. */
export async function killRedis(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return
  const exited = new Promise((resolve) => server.once('exit', resolve))
  server.kill('SIGKILL')
  await exited
}
