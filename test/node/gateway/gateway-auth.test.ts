import { connect } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../../protocol/index.ts'
import { refusedStatus, startGateway, TestSocket, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

const call = { jsonrpc: '2.0', id: 1, method: 'account.balance' }

describe('gateway authentication', () => {
  let api: TestGateway
  beforeEach(async () => {
    api = await startGateway()
  })
  afterEach(() => api.stop())

  it('should refuse a POST with 401 and no detail when the token is missing or wrong', async () => {
    const missing = await api.post(call, null)
    const wrong = await api.post(call, 'not-the-token')
    const prefix = await api.post(call, TOKEN.slice(0, -1))
    for (const answer of [missing, wrong, prefix]) {
      expect(answer.status).toBe(401)
      expect(answer.json).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: ERROR_CODES.UNAUTHORIZED, message: 'unauthorized' },
      })
    }
    expect(api.backend.calls).toHaveLength(0)
  })

  it('should answer a POST when the bearer token is right', async () => {
    const answer = await api.post(call)
    expect(answer.status).toBe(200)
    expect(answer.json).toMatchObject({ jsonrpc: '2.0', id: 1, result: { balanceMc: 100_000 } })
    expect(api.backend.calls[0]?.context).toEqual({
      account: 'owner',
      remoteAddress: '127.0.0.1',
      transport: 'http',
    })
  })

  it('should refuse a WebSocket upgrade with 401 when the token is missing or wrong', async () => {
    expect(await refusedStatus(api.wsUrl)).toBe(401)
    const headers = { authorization: 'Bearer wrong' }
    expect(await refusedStatus(api.wsUrl, { headers })).toBe(401)
    expect(await refusedStatus(`${api.wsUrl}?token=wrong`)).toBe(401)
    expect(await refusedStatus(api.wsUrl, {}, ['gridx.v1', 'gridx.token.wrong'])).toBe(401)
  })

  it('should refuse an upgrade on any other path with 404', async () => {
    const other = api.wsUrl.replace('/api/v1/ws', '/elsewhere')
    expect(await refusedStatus(other, { headers: { authorization: `Bearer ${TOKEN}` } })).toBe(404)
  })

  it('should accept the token by header, by query and by subprotocol', async () => {
    const byHeader = await TestSocket.open(api.wsUrl)
    const byQuery = new TestSocket(`${api.wsUrl}?token=${TOKEN}`)
    const byProtocol = new TestSocket(api.wsUrl, {}, ['gridx.v1', `gridx.token.${TOKEN}`])
    await Promise.all([byQuery.opened(), byProtocol.opened()])
    // The plain subprotocol is chosen, so the token is not echoed back.
    expect(byProtocol.socket.protocol).toBe('gridx.v1')
    for (const client of [byHeader, byQuery, byProtocol]) {
      const answer = await client.request(call)
      expect(answer).toMatchObject({ id: 1, result: { availableMc: 100_000 } })
      client.close()
    }
    expect(api.backend.calls.map((c) => c.context.transport)).toEqual(['ws', 'ws', 'ws'])
  })

  it('should never echo the token subprotocol, and refuse it offered alone with 400', async () => {
    expect(await refusedStatus(api.wsUrl, {}, [`gridx.token.${TOKEN}`])).toBe(400)
    const { port } = api.address
    const key = Buffer.from('0123456789abcdef').toString('base64')
    for (const offered of [`gridx.token.${TOKEN}`, `gridx.token.${TOKEN}, gridx.v1`]) {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port }, () => {
          socket.write(
            `GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
              `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
              `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${offered}\r\n\r\n`,
          )
        })
        socket.once('data', (data) => {
          resolve(String(data))
          socket.destroy()
        })
        socket.once('error', reject)
      })
      expect(raw).toMatch(/^HTTP\/1\.1 (101|400) /)
      expect(raw).not.toContain(TOKEN)
    }
  })
})

describe('gateway health and metrics', () => {
  let api: TestGateway
  afterEach(() => api.stop())

  it('should serve /healthz without a token, with the injected fields', async () => {
    api = await startGateway({ health: () => ({ role: 'peer', status: 'ignored' }) })
    const response = await fetch(`${api.address.url}/healthz`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ role: 'peer', status: 'ok' })
  })

  it('should answer /healthz with 503 when the health callback fails', async () => {
    api = await startGateway({
      health: () => {
        throw new Error('store closed')
      },
    })
    const response = await fetch(`${api.address.url}/healthz`)
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({ status: 'error' })
  })

  it('should serve Prometheus text with request, error and connection metrics', async () => {
    api = await startGateway()
    await api.post(call)
    await api.post({ jsonrpc: '2.0', id: 2, method: 'nope' })
    const socket = await TestSocket.open(api.wsUrl)
    const response = await fetch(`${api.address.url}/metrics`)
    const text = await response.text()
    socket.close()
    expect(response.headers.get('content-type')).toContain('text/plain')
    expect(text).toContain('gridx_api_requests_total{method="account.balance",outcome="ok"} 1')
    expect(text).toContain('gridx_api_requests_total{method="unknown",outcome="error"} 1')
    expect(text).toContain('gridx_api_errors_total{code="METHOD_NOT_FOUND"} 1')
    expect(text).toContain('gridx_api_websocket_connections 1')
  })
})
