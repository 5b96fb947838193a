import { afterEach, describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../../protocol/index.ts'
import { refusedStatus, startGateway, TestSocket, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'account.balance' })
const frozenClock = () => 0

describe('gateway limits', () => {
  let api: TestGateway
  afterEach(() => api.stop())

  it('should answer 429 RATE_LIMITED over POST past the token burst', async () => {
    api = await startGateway({ now: frozenClock, limits: { tokenBurst: 3, tokenPerS: 1 } })
    const answers = []
    for (let id = 1; id <= 4; id++) answers.push(await api.post(call(id)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429])
    expect(answers[3]?.json.error).toMatchObject({
      code: ERROR_CODES.RATE_LIMITED,
      data: { scope: 'token' },
    })
    expect(api.backend.calls).toHaveLength(3)
  })

  it('should count requests with a wrong token against the address', async () => {
    api = await startGateway({ now: frozenClock, limits: { addressBurst: 3, addressPerS: 1 } })
    for (let id = 1; id <= 3; id++) expect((await api.post(call(id), 'guess')).status).toBe(401)
    const answer = await api.post(call(4), 'guess')
    expect(answer.status).toBe(429)
    expect(answer.json.error?.data).toEqual({ scope: 'address' })
    expect(await refusedStatus(api.wsUrl, { headers: { authorization: 'Bearer guess' } })).toBe(429)
    expect(api.backend.calls).toHaveLength(0)
  })

  it('should keep the token budget when a tokenless flood comes from its address', async () => {
    const limits = { addressBurst: 5, addressPerS: 1, tokenBurst: 4, tokenPerS: 1 }
    api = await startGateway({ now: frozenClock, limits })
    const flood = await Promise.all(
      Array.from({ length: 40 }, (_, id) => api.post(call(id), id % 2 === 0 ? null : 'guess')),
    )
    expect(flood.filter((answer) => answer.status === 401)).toHaveLength(5)
    expect(flood.filter((answer) => answer.status === 429)).toHaveLength(35)
    const tokenless = await refusedStatus(api.wsUrl)
    expect(tokenless).toBe(429)
    // The owner's token still gets exactly its own burst, over either transport.
    const socket = await TestSocket.open(api.wsUrl)
    const answers = [await api.post(call(100)), await api.post(call(101))]
    answers.push(await api.post(call(102)), await api.post(call(103)))
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429])
    expect(answers[3]?.json.error?.data).toEqual({ scope: 'token' })
    socket.close()
  })

  it('should answer RATE_LIMITED with the request id per WebSocket message', async () => {
    // The upgrade is a request under the token too: it spends one of the three.
    api = await startGateway({ now: frozenClock, limits: { tokenBurst: 3, tokenPerS: 1 } })
    const socket = await TestSocket.open(api.wsUrl)
    const answers = [await socket.request(call(1)), await socket.request(call(2))]
    answers.push(await socket.request(call(3)))
    expect(answers.map((a) => a.error?.code)).toEqual([
      undefined,
      undefined,
      ERROR_CODES.RATE_LIMITED,
    ])
    expect(answers[2]?.id).toBe(3)
    const metrics = await (await fetch(`${api.address.url}/metrics`)).text()
    expect(metrics).toContain('gridx_api_rate_limited_total{scope="token"} 1')
    socket.close()
  })

  it('should refuse an upgrade with 503 past the connection bound', async () => {
    api = await startGateway({ limits: { connectionsMax: 2 } })
    const open = [await TestSocket.open(api.wsUrl), await TestSocket.open(api.wsUrl)]
    const headers = { authorization: `Bearer ${TOKEN}` }
    expect(await refusedStatus(api.wsUrl, { headers })).toBe(503)
    open[0]?.close()
    await open[0]?.closed()
    // The server frees the slot when it sees the close, a moment after the client does.
    const reopens = async () => {
      try {
        ;(await TestSocket.open(api.wsUrl)).close()
        return true
      } catch (error) {
        // Refused while the server has not yet seen the close: poll again.
        return !(error instanceof Error)
      }
    }
    await expect.poll(reopens, { timeout: 2000 }).toBe(true)
    open[1]?.close()
  })

  it('should drop a dead socket that stops answering pings', async () => {
    api = await startGateway({ limits: { pingIntervalMs: 20 } })
    // A client that never answers pings, as a vanished peer would.
    const headers = { authorization: `Bearer ${TOKEN}` }
    const socket = new TestSocket(api.wsUrl, { headers, autoPong: false })
    await socket.opened()
    expect((await socket.closed()).code).toBe(1006)
  })

  it('should keep a live socket that answers pings', async () => {
    api = await startGateway({ limits: { pingIntervalMs: 10 } })
    const socket = await TestSocket.open(api.wsUrl)
    let pings = 0
    socket.socket.on('ping', () => pings++)
    await expect.poll(() => pings, { timeout: 2000 }).toBeGreaterThanOrEqual(5)
    expect((await socket.request(call(1))).result).toBeDefined()
    socket.close()
  })
})
