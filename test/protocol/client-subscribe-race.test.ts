// A daemon may send a subscription's first events right behind its answer; when both arrive in
// one read of the socket, the client must already know the subscription when the events come.
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { RpcClient, SUBSCRIPTION_METHOD, WS_PATH } from '../../protocol/index.ts'
import type { SubscriptionEvent } from '../../protocol/index.ts'

const event: SubscriptionEvent = { topic: 'logs', id: 'j1', stream: 'stderr', data: 'oops\n' }

describe('RpcClient subscribe', () => {
  let server: WebSocketServer | undefined
  let client: RpcClient | undefined
  afterEach(async () => {
    client?.close()
    await new Promise((resolve) => server?.close(resolve))
  })

  it('should deliver events that arrive in the same read as the subscribe answer', async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: WS_PATH })
    server.on('connection', (socket, request) => {
      socket.on('message', (text: Buffer) => {
        const { id } = JSON.parse(text.toString()) as { id: number }
        const raw = request.socket
        // One TCP write: the answer and the first event are parsed in one go by the client.
        raw.cork()
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, result: { subscription: 's1' } }))
        const params = { subscription: 's1', event }
        socket.send(JSON.stringify({ jsonrpc: '2.0', method: SUBSCRIPTION_METHOD, params }))
        process.nextTick(() => raw.uncork())
      })
    })
    await new Promise((resolve) => server?.once('listening', resolve))
    const { port } = server.address() as AddressInfo
    client = new RpcClient({ url: `http://127.0.0.1:${port}`, token: 'test-token' })
    const events: SubscriptionEvent[] = []
    await client.subscribe('logs', { topic: 'logs', id: 'j1' }, (e) => events.push(e))
    await expect.poll(() => events, { timeout: 1000 }).toEqual([event])
  })
})
