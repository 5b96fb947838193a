// Cross-origin use and DNS rebinding. A page on another site may send requests to the daemon
// (the browser attaches its Origin); a rebound name reaches it with a foreign Host. Only the
// daemon's own origins (plus --allow-origin) may use the API, and a loopback listener answers
// only its own names.
import { request } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { API_PATH } from '../../../protocol/index.ts'
import { refusedStatus, startGateway, TestSocket, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'account.balance' })
const EVIL = 'http://evil.example'

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** One request to loopback `port` with exactly these headers (fetch would set its own Host). */
function send(port: number, method: string, path: string, headers: Record<string, string>) {
  return new Promise<Answer>((resolve, reject) => {
    const body = method === 'POST' ? call : undefined
    const all = {
      ...headers,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    }
    const outgoing = request({ host: '127.0.0.1', port, path, method, headers: all }, (answer) => {
      let text = ''
      answer.setEncoding('utf8')
      answer.on('data', (chunk: string) => (text += chunk))
      answer.on('end', () =>
        resolve({ status: answer.statusCode ?? 0, headers: answer.headers, body: text }),
      )
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

const authorized = { authorization: `Bearer ${TOKEN}` }

describe('gateway origins on a loopback listener', () => {
  let api: TestGateway
  let dir: string
  let own: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridx-origins-'))
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Grid-X</title>')
    api = await startGateway({ staticDir: dir, allowOrigins: ['https://app.example'] })
    own = `http://127.0.0.1:${api.address.port}`
  })
  beforeEach(() => {
    api.backend.calls.length = 0
  })
  afterAll(async () => {
    await api.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const post = (headers: Record<string, string>) =>
    send(api.address.port, 'POST', API_PATH, { host: `127.0.0.1:${api.address.port}`, ...headers })

  it('should refuse a POST from a foreign Origin with 403 and never call the backend', async () => {
    for (const origin of [EVIL, 'null', `http://127.0.0.1:${api.address.port + 1}`]) {
      const answer = await post({ ...authorized, origin })
      expect(answer.status, origin).toBe(403)
    }
    expect(api.backend.calls).toHaveLength(0)
  })

  it('should answer a POST without Origin, from its own origins and allowed ones', async () => {
    const port = api.address.port
    const origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]
    expect((await post(authorized)).status).toBe(200)
    for (const origin of [...origins, 'https://app.example']) {
      expect((await post({ ...authorized, origin })).status, origin).toBe(200)
    }
  })

  it('should refuse a WebSocket upgrade from a foreign Origin with 403', async () => {
    expect(await refusedStatus(api.wsUrl, { headers: { ...authorized, origin: EVIL } })).toBe(403)
    const ownSocket = new TestSocket(api.wsUrl, { headers: authorized, origin: own })
    await ownSocket.opened()
    const allowed = new TestSocket(api.wsUrl, {
      headers: authorized,
      origin: 'https://app.example',
    })
    await allowed.opened()
    ownSocket.close()
    allowed.close()
  })

  it('should refuse an unknown Host on every route, health and metrics too', async () => {
    const port = api.address.port
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`]) {
      for (const path of ['/healthz', '/metrics', '/', '/index.html', API_PATH]) {
        const answer = await send(port, path === API_PATH ? 'POST' : 'GET', path, {
          host,
          ...authorized,
        })
        expect(answer.status, `${host} ${path}`).toBe(403)
        expect(answer.body).not.toContain('Grid-X')
      }
      const headers = { ...authorized, host }
      expect(await refusedStatus(api.wsUrl, { headers }), host).toBe(403)
    }
    expect(api.backend.calls).toHaveLength(0)
  })

  it('should answer its own loopback names as Host', async () => {
    const port = api.address.port
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
    ]) {
      expect((await send(port, 'GET', '/healthz', { host })).status, host).toBe(200)
    }
  })

  it('should answer the Host of an allowed origin when a proxy passes it on', async () => {
    // Caddy, and nginx with `proxy_set_header Host $host`, forward the browser's Host: the
    // name of an origin the owner allowed is a name the daemon is reached by.
    const port = api.address.port
    for (const host of ['app.example', 'APP.example', 'app.example:443']) {
      expect((await send(port, 'GET', '/', { host })).status, host).toBe(200)
      const rpc = await send(port, 'POST', API_PATH, {
        ...authorized,
        host,
        origin: 'https://app.example',
      })
      expect(rpc.status, host).toBe(200)
    }
    for (const host of ['app.example:80', 'app.example:8443', 'www.app.example']) {
      expect((await send(port, 'GET', '/healthz', { host })).status, host).toBe(403)
    }
  })

  it('should serve the web app with a Content-Security-Policy that forbids framing', async () => {
    const port = api.address.port
    const answer = await send(port, 'GET', '/', { host: `localhost:${port}` })
    expect(answer.status).toBe(200)
    const csp = String(answer.headers['content-security-policy'])
    const directives = new Map(
      csp.split(';').map((part) => {
        const [name = '', ...values] = part.trim().split(/\s+/)
        return [name, values.join(' ')] as const
      }),
    )
    expect(directives.get('default-src')).toBe("'self'")
    expect(directives.get('script-src')).toBe("'self'")
    expect(directives.get('connect-src')).toBe(`'self' ws://localhost:${port}`)
    expect(directives.get('frame-ancestors')).toBe("'none'")
    expect(directives.get('object-src')).toBe("'none'")
    expect(directives.get('base-uri')).toBe("'none'")
    expect(answer.headers['x-frame-options']).toBe('DENY')
  })
})

describe('gateway origins on a listener for every address', () => {
  let api: TestGateway
  beforeAll(async () => {
    // Bound to every interface, but reached over loopback only.
    api = await startGateway({ host: '0.0.0.0' })
  })
  afterAll(() => api.stop())

  it('should answer any Host and still refuse a foreign Origin', async () => {
    const port = api.address.port
    const host = `gridx-box.lan:${port}`
    expect((await send(port, 'GET', '/healthz', { host })).status).toBe(200)
    const post = (origin: string) => send(port, 'POST', API_PATH, { host, origin, ...authorized })
    expect((await post(EVIL)).status).toBe(403)
    expect((await post(`http://127.0.0.1:${port}`)).status).toBe(200)
    // The URL `gridx start` prints for such a listener names the wildcard address itself.
    expect((await post(`http://0.0.0.0:${port}`)).status).toBe(200)
    expect(api.backend.calls).toHaveLength(2)
  })
})

describe('gateway --allow-origin values', () => {
  it('should refuse an allowed origin that is not an origin', async () => {
    for (const bad of ['evil.example', 'http://a.example/path', 'ftp://a.example', '*', 'null']) {
      await expect(startGateway({ allowOrigins: [bad] }), bad).rejects.toThrow(/origin/)
    }
  })
})
