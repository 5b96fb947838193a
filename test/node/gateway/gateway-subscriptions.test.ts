import { afterEach, describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../../protocol/index.ts'
import type { SubscriptionEvent } from '../../../protocol/index.ts'
import { MemoryBackend } from './fixtures/memory-backend.ts'
import { startGateway, TestSocket, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

let nextId = 1
const subscribe = (params: unknown) => ({
  jsonrpc: '2.0',
  id: nextId++,
  method: 'subscribe',
  params,
})
const unsubscribe = (subscription: string) => ({
  jsonrpc: '2.0',
  id: nextId++,
  method: 'unsubscribe',
  params: { subscription },
})
const peers: SubscriptionEvent = { topic: 'peers', peers: [] }

describe('gateway subscriptions', () => {
  let api: TestGateway
  afterEach(() => api.stop())

  it('should push events to a subscription and stop after unsubscribe', async () => {
    api = await startGateway()
    const socket = await TestSocket.open(api.wsUrl)
    const answer = await socket.request(subscribe({ topic: 'peers' }))
    const subscription = (answer.result as { subscription: string }).subscription
    expect(api.backend.emit(peers)).toBe(1)
    const [first] = await socket.notificationsAtLeast(1)
    expect(first).toEqual({
      jsonrpc: '2.0',
      method: 'subscription',
      params: { subscription, event: peers },
    })
    expect((await socket.request(unsubscribe(subscription))).result).toEqual({ removed: true })
    expect(api.backend.emit(peers)).toBe(0)
    expect((await socket.request(unsubscribe(subscription))).result).toEqual({ removed: false })
    expect(socket.notifications).toHaveLength(1)
    socket.close()
  })

  it('should release every subscription when the connection closes', async () => {
    api = await startGateway()
    const socket = await TestSocket.open(api.wsUrl)
    await socket.request(subscribe({ topic: 'jobs' }))
    await socket.request(subscribe({ topic: 'logs', id: 'j1234567' }))
    socket.close()
    await expect.poll(() => api.backend.subscribers.filter((s) => s.active).length).toBe(0)
  })

  it('should refuse a subscription past the per-connection bound', async () => {
    api = await startGateway({ limits: { subscriptionsPerConnectionMax: 3 } })
    const socket = await TestSocket.open(api.wsUrl)
    for (let i = 0; i < 3; i++) {
      expect((await socket.request(subscribe({ topic: 'balance' }))).result).toBeDefined()
    }
    const refused = await socket.request(subscribe({ topic: 'balance' }))
    expect(refused.error).toMatchObject({
      code: ERROR_CODES.RATE_LIMITED,
      data: { subscriptionsMax: 3 },
    })
    expect(api.backend.activeSubscribers('balance')).toHaveLength(3)
    socket.close()
  })

  it('should send the backend refusal of a subscription as its GridxError', async () => {
    api = await startGateway()
    const socket = await TestSocket.open(api.wsUrl)
    const refused = await socket.request(subscribe({ topic: 'logs' }))
    expect(refused.error).toMatchObject({ code: ERROR_CODES.INVALID_PARAMS, data: { field: 'id' } })
    const wrongTopic = await socket.request(subscribe({ topic: 'weather' }))
    expect(wrongTopic.error?.data?.field).toBe('topic')
    socket.close()
  })

  it('should deliver events pushed during subscribe after the subscribe answer', async () => {
    const backend = new MemoryBackend()
    const subscribeOriginal = backend.subscribe.bind(backend)
    backend.subscribe = (topic, params, context, push) => {
      const stop = subscribeOriginal(topic, params, context, push)
      push(peers)
      return stop
    }
    api = await startGateway({ backend })
    const socket = await TestSocket.open(api.wsUrl)
    const order: string[] = []
    socket.socket.on('message', (data) => order.push(JSON.parse(String(data)).method ?? 'answer'))
    await socket.request(subscribe({ topic: 'peers' }))
    await socket.notificationsAtLeast(1)
    expect(order).toEqual(['answer', 'subscription'])
    socket.close()
  })

  it('should deliver the events of a subscription in a batch after the batch answer', async () => {
    // account.balance waits until the test lets it go: the batch is answered only then.
    const backend = new MemoryBackend()
    const callOriginal = backend.call.bind(backend)
    const { promise: gate, resolve: open } = Promise.withResolvers<void>()
    backend.call = (async (method, params, context) => {
      await gate
      return callOriginal(method, params, context)
    }) as MemoryBackend['call']
    api = await startGateway({ backend })
    const socket = await TestSocket.open(api.wsUrl)
    const order: string[] = []
    socket.socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { method?: string }
      order.push(Array.isArray(message) ? 'batch answer' : (message.method ?? 'answer'))
    })
    const balance = { jsonrpc: '2.0', id: nextId++, method: 'account.balance' }
    const answered = socket.request([subscribe({ topic: 'peers' }), balance])
    while (backend.activeSubscribers('peers').length === 0) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(backend.emit(peers)).toBe(1)
    // Turns of the loop in which an event let go too early would reach the socket.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve))
    open()
    await answered
    await socket.notificationsAtLeast(1)
    expect(order).toEqual(['batch answer', 'subscription'])
    socket.close()
  })

  it('should disconnect a client that does not read its events', async () => {
    api = await startGateway({ limits: { connectionBufferedBytesMax: 64 * 1024 } })
    const headers = { authorization: `Bearer ${TOKEN}` }
    const socket = new TestSocket(api.wsUrl, { headers })
    await socket.opened()
    await socket.request(subscribe({ topic: 'logs', id: 'j1234567' }))
    // Stop reading: the kernel buffers fill, then the server's send buffer grows.
    const raw = (socket.socket as unknown as { _socket: { pause(): void } })._socket
    raw.pause()
    const data = 'x'.repeat(64 * 1024)
    const event: SubscriptionEvent = { topic: 'logs', id: 'j1234567', stream: 'stdout', data }
    let pushed = 0
    while (api.backend.activeSubscribers('logs').length > 0 && pushed < 10_000) {
      api.backend.emit(event)
      pushed++
      if (pushed % 16 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    expect(api.backend.activeSubscribers('logs')).toHaveLength(0)
    expect(pushed).toBeLessThan(10_000)
  })
})
