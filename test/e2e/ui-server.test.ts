import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CLI, tempDir, waitFor, write } from '../support/helpers.js'

/** One real HTTP GET with the Host header we choose (fetch would not let us forge it). */
function get(url: string, host?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: host === undefined ? {} : { host } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        body += d
        // An event stream never ends by itself: the first event is enough.
        if (res.headers['content-type']?.startsWith('text/event-stream') && body.includes('\n\n')) req.destroy()
      })
      const done = (): void => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body })
      res.on('end', done)
      res.on('close', done)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the --ui server answers only to the address it printed', () => {
  it('a foreign Host (DNS rebinding) and a missing or wrong token are refused; the printed URL works', async () => {
    const dir = tempDir()
    write(dir, 't/test_1.sh', 'echo "secret output"\n')
    const child = spawn(process.execPath, [CLI, 'run', 't', '--ui-keep', '--no-history', '--out', join(dir, 'out')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    await waitFor(() => stdout.includes('still serving'), 'the run to end')
    const url = /live report at (http:\/\/127\.0\.0\.1:(\d+)\/([\w-]{20,})\/)\n/.exec(stdout)
    expect(url, stdout).not.toBeNull()
    const [, page = '', port = '', token = ''] = url ?? []

    const ok = await get(page)
    expect(ok.status).toBe(200)
    expect(ok.body).toContain('secret output')
    const events = await get(`${page}events`)
    expect(events.status).toBe(200)
    expect(events.type).toMatch(/^text\/event-stream/)
    expect((await get(`${page}log/worker01`)).body).toContain('secret output')

    // What a page on evil.example sees after pointing its name at 127.0.0.1: its own Host.
    for (const host of [`evil.example:${port}`, `localhost:${port}`, 'evil.example', `127.0.0.1:${Number(port) + 1}`]) {
      for (const path of ['', 'events', 'log/worker01']) {
        const r = await get(`${page}${path}`, host)
        expect(r.status, `${host} ${path}`).toBe(403)
        expect(r.body).not.toContain('secret output')
      }
    }
    // The right Host without the token: nothing, not even a hint that a token is missing.
    const root = `http://127.0.0.1:${port}/`
    // A token one character off (not the same character: a token may end in x, one time in 64).
    const wrong = `${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`
    for (const path of ['', 'events', 'log/worker01', `${wrong}/`, `${wrong}/events`]) {
      const r = await get(`${root}${path}`)
      expect(r.status, path).toBe(404)
      expect(r.body).toBe('')
    }
    child.kill('SIGINT')
    expect(await exited).toBe(0)
  })
})

describe('the --ui server and bad requests', () => {
  it('a malformed escape in a log URL is a 400; the run goes on to its results and its exit code', async () => {
    const dir = tempDir()
    const gate = join(dir, 'gate')
    // Holds the run open until the requests are made (and gives up when the temp folder is gone).
    write(dir, 't/test_1.sh', `echo "held open"\nwhile [ -d '${dir}' ] && [ ! -e '${gate}' ]; do sleep 0.05; done\n`)
    const child = spawn(process.execPath, [CLI, 'run', 't', '--ui', '--no-history', '--out', join(dir, 'out')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    await waitFor(() => /live report at http:\/\/\S+\/\n/.test(stdout), 'the printed URL')
    const page = /live report at (http:\/\/127\.0\.0\.1:\d+\/[\w-]{20,}\/)\n/.exec(stdout)?.[1] ?? ''

    for (const path of ['log/%E0%A4%A', 'log/%', 'log/%ZZ', 'log/worker01%']) {
      const r = await get(`${page}${path}`)
      expect(r.status, path).toBe(400)
    }
    // The server still answers, and the run ends as it would have.
    expect((await get(page)).status).toBe(200)
    writeFileSync(gate, '')
    expect(await exited, stderr).toBe(0)
    expect(stderr).toBe('')
    expect(JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')).tests[0].status).toBe('passed')
  })
})
