import { describe, expect, it } from 'vitest'
import { ERROR_CODES, WS_PATH } from '../../../protocol/index.ts'
import { startGateway, TestSocket } from './fixtures/start-gateway.ts'
import type { WireMessage } from './fixtures/start-gateway.ts'

const hanging = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'job.logs',
  params: { id: 'j1234567' },
})

describe('gateway lifecycle and routes', () => {
  it('should stop within its grace period while calls hang and sockets are open', async () => {
    const api = await startGateway({ limits: { stopGraceMs: 200 } })
    const socket = await TestSocket.open(api.wsUrl)
    socket.socket.send(JSON.stringify(hanging(1)))
    const post = api.post(hanging(2)).then(
      () => 'answered',
      () => 'cut',
    )
    await expect.poll(() => api.backend.calls.length).toBe(2)
    const started = performance.now()
    await api.stop()
    expect(performance.now() - started).toBeLessThan(2000)
    expect((await socket.closed()).code).toBe(1001)
    expect(await post).toBe('cut')
    await expect(fetch(`${api.address.url}/healthz`)).rejects.toThrow()
    await expect(api.gateway.start()).rejects.toThrow('stopped')
  })

  it('should refuse requests past the in-flight bound of a connection', async () => {
    const api = await startGateway({ limits: { inFlightPerConnectionMax: 2 } })
    const socket = await TestSocket.open(api.wsUrl)
    const answers: WireMessage[] = []
    socket.socket.on('message', (data) => answers.push(JSON.parse(String(data))))
    for (let id = 1; id <= 3; id++) socket.socket.send(JSON.stringify(hanging(id)))
    await expect.poll(() => answers.length).toBe(1)
    expect(answers[0]).toMatchObject({ id: 3, error: { code: ERROR_CODES.RATE_LIMITED } })
    expect(api.backend.calls).toHaveLength(2)
    await api.stop()
  })

  it('should answer other methods and paths with 405, 426 and 404', async () => {
    const api = await startGateway()
    const base = api.address.url
    const get = await fetch(`${base}/api/v1/rpc`)
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    expect((await fetch(`${base}${WS_PATH}`)).status).toBe(426)
    expect((await fetch(`${base}/healthz`, { method: 'DELETE' })).status).toBe(405)
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404)
    await api.stop()
  })
})
