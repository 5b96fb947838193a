import { afterEach, describe, expect, it } from 'vitest'
import { GridxError, RPC_MESSAGE_BYTES_MAX } from '../../protocol/index.ts'
import type { SubscriptionEvent } from '../../protocol/index.ts'
import { backoffDelayMs, httpCall, RpcClient } from '../../protocol/client.ts'
import type { ConnectionState } from '../../protocol/client.ts'
import { MemoryBackend } from '../node/gateway/fixtures/memory-backend.ts'
import { startGateway, TOKEN } from '../node/gateway/fixtures/start-gateway.ts'
import type { TestGateway } from '../node/gateway/fixtures/start-gateway.ts'

const spec = { runtime: 'python', code: 'print(1)' } as const
const peers: SubscriptionEvent = { topic: 'peers', peers: [] }
const fast = { reconnectDelayMsMin: 10, reconnectDelayMsMax: 40 }

describe('RpcClient', () => {
  let api: TestGateway
  let client: RpcClient | undefined
  afterEach(async () => {
    client?.close()
    client = undefined
    await api.stop()
  })

  it('should make typed calls and rebuild errors as GridxError', async () => {
    api = await startGateway()
    client = new RpcClient({ url: api.address.url, token: TOKEN })
    await client.connect()
    const { job } = await client.call('job.submit', { idempotencyId: 'a1', spec })
    expect((await client.call('job.get', { id: job.id })).state).toBe('queued')
    const missing = client.call('job.get', { id: 'jzzzzzzz' })
    await expect(missing).rejects.toBeInstanceOf(GridxError)
    await expect(missing).rejects.toMatchObject({ name: 'NOT_FOUND', data: { field: 'id' } })
    const bad = client.call('job.get', { id: 'nope' })
    await expect(bad).rejects.toMatchObject({ name: 'INVALID_PARAMS', data: { field: 'id' } })
  })

  it('should queue calls made before the connection opens', async () => {
    api = await startGateway()
    client = new RpcClient({ url: api.address.url, token: TOKEN })
    const balance = await client.call('account.balance', {})
    expect(balance.availableMc).toBe(100_000)
    expect(client.state).toBe('open')
  })

  it('should deliver subscription events until unsubscribed', async () => {
    api = await startGateway()
    client = new RpcClient({ url: api.address.url, token: TOKEN })
    const events: SubscriptionEvent[] = []
    const stop = await client.subscribe('peers', {}, (event) => events.push(event))
    api.backend.emit(peers)
    await expect.poll(() => events).toEqual([peers])
    stop()
    await expect.poll(() => api.backend.activeSubscribers('peers').length).toBe(0)
  })

  it('should reconnect after the server restarts and subscribe again', async () => {
    const backend = new MemoryBackend()
    api = await startGateway({ backend })
    const { port } = api.address
    client = new RpcClient({ url: api.address.url, token: TOKEN, ...fast })
    const states: ConnectionState[] = []
    client.onStateChange((state) => states.push(state))
    const events: SubscriptionEvent[] = []
    await client.subscribe('peers', {}, (event) => events.push(event))
    await api.stop()
    await expect.poll(() => client?.state).toBe('reconnecting')
    api = await startGateway({ backend, port, metrics: api.registry })
    await expect.poll(() => backend.activeSubscribers('peers').length, { timeout: 5000 }).toBe(1)
    backend.emit(peers)
    await expect.poll(() => events).toEqual([peers])
    expect(states[0]).toBe('connecting')
    expect(states.filter((state) => state === 'open').length).toBe(2)
    expect((await client.call('account.balance', {})).balanceMc).toBe(100_000)
  })

  it('should fail a call that gets no answer within its timeout', async () => {
    api = await startGateway()
    client = new RpcClient({ url: api.address.url, token: TOKEN })
    const started = performance.now()
    const slow = client.call('job.logs', { id: 'j1234567' }, { timeoutMs: 100 })
    await expect(slow).rejects.toMatchObject({ name: 'UNAVAILABLE' })
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('should fail a call when its signal aborts', async () => {
    api = await startGateway()
    client = new RpcClient({ url: api.address.url, token: TOKEN })
    const controller = new AbortController()
    const call = client.call('job.logs', { id: 'j1234567' }, { signal: controller.signal })
    controller.abort(new Error('user left'))
    await expect(call).rejects.toThrow('user left')
  })

  it('should refuse a request over the message limit without sending it', async () => {
    api = await startGateway()
    client = new RpcClient({ url: api.address.url, token: TOKEN })
    const code = 'x'.repeat(RPC_MESSAGE_BYTES_MAX)
    const call = client.call('job.quote', { spec: { runtime: 'bash', code } })
    await expect(call).rejects.toMatchObject({ name: 'TOO_LARGE' })
    expect(api.backend.calls).toHaveLength(0)
  })

  it('should reject connect with UNAUTHORIZED when the token is wrong', async () => {
    api = await startGateway()
    client = new RpcClient({ url: api.address.url, token: 'wrong', ...fast })
    await expect(client.connect()).rejects.toMatchObject({ name: 'UNAUTHORIZED' })
  })

  it('should fail pending calls and stop when closed', async () => {
    api = await startGateway()
    client = new RpcClient({ url: api.address.url, token: TOKEN })
    await client.connect()
    const pending = client.call('job.logs', { id: 'j1234567' })
    client.close()
    await expect(pending).rejects.toMatchObject({ name: 'UNAVAILABLE' })
    await expect(client.call('mesh.peers', {})).rejects.toMatchObject({ name: 'UNAVAILABLE' })
    expect(client.state).toBe('closed')
  })
})

describe('httpCall', () => {
  let api: TestGateway
  afterEach(() => api.stop())

  it('should make a call over POST and rebuild errors', async () => {
    api = await startGateway()
    const balance = await httpCall(api.address.url, TOKEN, 'account.balance', {})
    expect(balance.balanceMc).toBe(100_000)
    const wrongToken = httpCall(api.address.url, 'nope', 'account.balance', {})
    await expect(wrongToken).rejects.toMatchObject({ name: 'UNAUTHORIZED' })
    const bad = httpCall(api.address.url, TOKEN, 'job.get', { id: 'x' })
    await expect(bad).rejects.toMatchObject({ name: 'INVALID_PARAMS', data: { field: 'id' } })
  })

  it('should time out', async () => {
    api = await startGateway()
    const slow = httpCall(api.address.url, TOKEN, 'job.logs', { id: 'j1234567' }, { timeoutMs: 50 })
    await expect(slow).rejects.toMatchObject({ name: 'TimeoutError' })
  })
})

describe('backoffDelayMs', () => {
  it('should double from the minimum, cap at the maximum and keep jitter within half', () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelayMs(attempt, 100, 1000, 1))).toEqual([
      100, 200, 400, 800,
    ])
    expect(backoffDelayMs(10, 100, 1000, 1)).toBe(1000)
    expect(backoffDelayMs(10_000, 100, 1000, 0)).toBe(500)
    expect(backoffDelayMs(0, 100, 1000, 0.5)).toBe(75)
  })
})
