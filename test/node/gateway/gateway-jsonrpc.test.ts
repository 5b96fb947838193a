// JSON-RPC 2.0 to the letter (jsonrpc.org/specification): notifications, batches, ids,
// params and transports, over POST and the WebSocket alike.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  API_PATH,
  ERROR_CODES,
  GridxError,
  RPC_BATCH_REQUESTS_MAX,
} from '../../../protocol/index.ts'
import type { ErrorName } from '../../../protocol/index.ts'
import { MemoryBackend } from './fixtures/memory-backend.ts'
import { startGateway, TestSocket, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway, WireMessage } from './fixtures/start-gateway.ts'

const { INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, RATE_LIMITED } = ERROR_CODES
const spec = { runtime: 'bash', code: 'echo hi' }
const submit = (idempotencyId: string) => ({
  jsonrpc: '2.0',
  method: 'job.submit',
  params: { idempotencyId, spec },
})
const balance = (id: unknown) => ({ jsonrpc: '2.0', id, method: 'account.balance' })

/** POSTs raw text; the status, the headers and the body as sent. */
async function postText(api: TestGateway, text: string) {
  const response = await fetch(api.address.url + API_PATH, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: text,
  })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

/** Sends `message` over the WebSocket, then a marker request, and resolves with the first
 * answer to arrive: the marker's when `message` got none. */
function firstAnswerAfter(socket: TestSocket, message: unknown): Promise<WireMessage> {
  socket.socket.send(JSON.stringify(message))
  return socket.request(balance('marker'))
}

describe('JSON-RPC notifications', () => {
  let api: TestGateway
  let socket: TestSocket
  beforeEach(async () => {
    api = await startGateway()
    socket = await TestSocket.open(api.wsUrl)
  })
  afterEach(async () => {
    socket.close()
    await api.stop()
  })

  it('should execute a notification over POST and answer 204 with no body', async () => {
    const answer = await postText(api, JSON.stringify(submit('n-1')))
    expect(answer.status).toBe(204)
    expect(answer.text).toBe('')
    expect(api.backend.calls.map((call) => call.method)).toEqual(['job.submit'])
    const listed = await api.post({ jsonrpc: '2.0', id: 1, method: 'job.list' })
    expect(listed.json.result).toMatchObject({ jobs: [{ idempotencyId: 'n-1' }] })
  })

  it('should execute a notification over the WebSocket and send nothing back', async () => {
    socket.socket.send(JSON.stringify(submit('n-2')))
    const next = await socket.request(balance(2))
    expect(next).toMatchObject({ id: 2, result: { availableMc: 100_000 } })
    expect(api.backend.calls.map((call) => call.method)).toEqual(['job.submit', 'account.balance'])
  })

  const failing = {
    'an unknown method': { jsonrpc: '2.0', method: 'job.explode' },
    'bad params': { jsonrpc: '2.0', method: 'job.get', params: { id: 3 } },
    'a backend failure': { jsonrpc: '2.0', method: 'mesh.info' },
  }
  for (const [what, notification] of Object.entries(failing)) {
    it(`should answer nothing to a notification with ${what}`, async () => {
      expect((await postText(api, JSON.stringify(notification))).status).toBe(204)
      expect((await firstAnswerAfter(socket, notification)).id).toBe('marker')
    })
  }

  it('should create no subscription for a subscribe notification', async () => {
    const notification = { jsonrpc: '2.0', method: 'subscribe', params: { topic: 'peers' } }
    expect((await firstAnswerAfter(socket, notification)).id).toBe('marker')
    expect(api.backend.subscribers).toHaveLength(0)
    expect(api.backend.emit({ topic: 'peers', peers: [] })).toBe(0)
    const text = await (await fetch(`${api.address.url}/metrics`)).text()
    expect(text).toContain('gridx_api_requests_total{method="subscribe",outcome="error"} 1')
  })

  it('should execute an unsubscribe notification', async () => {
    const answer = await socket.request({
      jsonrpc: '2.0',
      id: 1,
      method: 'subscribe',
      params: { topic: 'peers' },
    })
    const { subscription } = answer.result as { subscription: string }
    const notification = { jsonrpc: '2.0', method: 'unsubscribe', params: { subscription } }
    expect((await firstAnswerAfter(socket, notification)).id).toBe('marker')
    expect(api.backend.activeSubscribers('peers')).toHaveLength(0)
  })
})

describe('JSON-RPC batches', () => {
  let api: TestGateway
  let socket: TestSocket
  beforeAll(async () => {
    api = await startGateway()
    socket = await TestSocket.open(api.wsUrl)
  })
  afterAll(async () => {
    socket.close()
    await api.stop()
  })
  beforeEach(() => {
    api.backend.calls.length = 0
  })

  const mixed = [
    balance(1),
    1,
    submit('b-1'),
    { jsonrpc: '2.0', id: 'b', method: 'job.get', params: { id: 3 } },
    { jsonrpc: '2.0', id: 3, method: 'job.explode' },
    { foo: 'boo' },
  ]
  const expectMixed = (answer: unknown) => {
    const responses = answer as WireMessage[]
    expect(Array.isArray(responses)).toBe(true)
    const byId = (id: unknown) => responses.filter((response) => response.id === id)
    expect(responses).toHaveLength(5)
    expect(byId(1)[0]).toMatchObject({ jsonrpc: '2.0', result: { availableMc: 100_000 } })
    expect(byId(null).map((response) => response.error?.code)).toEqual([
      INVALID_REQUEST,
      INVALID_REQUEST,
    ])
    expect(byId('b')[0]?.error?.code).toBe(INVALID_PARAMS)
    expect(byId(3)[0]?.error?.code).toBe(METHOD_NOT_FOUND)
    expect(api.backend.calls.map((call) => call.method).sort()).toEqual([
      'account.balance',
      'job.submit',
    ])
  }

  it('should answer a POST batch with a response per request, none for notifications', async () => {
    const answer = await postText(api, JSON.stringify(mixed))
    expect(answer.status).toBe(200)
    expectMixed(JSON.parse(answer.text))
  })

  it('should answer a batch over the WebSocket with one response per request', async () => {
    expectMixed(await socket.request(mixed))
  })

  it('should answer nothing at all to a batch of notifications', async () => {
    const batch = [submit('b-2'), submit('b-3')]
    const answer = await postText(api, JSON.stringify(batch))
    expect(answer.status).toBe(204)
    expect(answer.text).toBe('')
    expect((await firstAnswerAfter(socket, [submit('b-4')])).id).toBe('marker')
    expect(api.backend.calls.filter((call) => call.method === 'job.submit')).toHaveLength(3)
  })

  it('should answer an empty batch with one INVALID_REQUEST, not an array', async () => {
    const expected = { jsonrpc: '2.0', id: null, error: { code: INVALID_REQUEST } }
    const answer = await postText(api, '[]')
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.text)).toMatchObject(expected)
    expect(await socket.request([])).toMatchObject(expected)
  })

  it('should answer every member of [1,2,3] with INVALID_REQUEST and a null id', async () => {
    const answer = await socket.request([1, 2, 3])
    expect(answer).toEqual(
      [1, 2, 3].map(() => ({
        jsonrpc: '2.0',
        id: null,
        error: expect.objectContaining({ code: INVALID_REQUEST }),
      })),
    )
  })

  it('should refuse a batch over RPC_BATCH_REQUESTS_MAX whole and run none of it', async () => {
    const batch = Array.from({ length: RPC_BATCH_REQUESTS_MAX + 1 }, (_, id) => balance(id))
    const answer = await postText(api, JSON.stringify(batch))
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.text)).toMatchObject({
      id: null,
      error: { code: INVALID_REQUEST, data: { batchRequestsMax: RPC_BATCH_REQUESTS_MAX } },
    })
    const full = Array.from({ length: RPC_BATCH_REQUESTS_MAX }, (_, id) => balance(id))
    expect(await socket.request(full)).toHaveLength(RPC_BATCH_REQUESTS_MAX)
    expect(api.backend.calls).toHaveLength(RPC_BATCH_REQUESTS_MAX)
  })
})

describe('JSON-RPC batches and the rate limit', () => {
  let api: TestGateway
  afterEach(() => api.stop())

  it('should spend one token per member and refuse the members past the budget', async () => {
    api = await startGateway({ now: () => 0, limits: { tokenBurst: 3, tokenPerS: 1 } })
    const batch = [balance(1), balance(2), submit('r-1'), balance(3), submit('r-2')]
    const answer = await postText(api, JSON.stringify(batch))
    expect(answer.status).toBe(200)
    const responses = JSON.parse(answer.text) as WireMessage[]
    expect(responses.map((response) => [response.id, response.error?.code])).toEqual([
      [1, undefined],
      [2, undefined],
      [3, RATE_LIMITED],
    ])
    expect(api.backend.calls.map((call) => call.method)).toEqual([
      'account.balance',
      'account.balance',
      'job.submit',
    ])
  })

  it('should spend one token per member of a WebSocket batch', async () => {
    // The upgrade spends one token of the four.
    api = await startGateway({ now: () => 0, limits: { tokenBurst: 4, tokenPerS: 1 } })
    const socket = await TestSocket.open(api.wsUrl)
    const batch = [balance(1), balance(2), balance(3), balance(4)]
    const answer = (await socket.request(batch)) as unknown as WireMessage[]
    expect(answer.map((response) => response.error?.code)).toEqual([
      undefined,
      undefined,
      undefined,
      RATE_LIMITED,
    ])
    socket.close()
  })
})

describe('JSON-RPC ids, params and transports', () => {
  let api: TestGateway
  let socket: TestSocket
  beforeAll(async () => {
    api = await startGateway()
    socket = await TestSocket.open(api.wsUrl)
  })
  afterAll(async () => {
    socket.close()
    await api.stop()
  })
  beforeEach(() => {
    api.backend.calls.length = 0
  })

  it('should answer and run a request whose id is null', async () => {
    const answer = await api.post(balance(null))
    expect(answer.status).toBe(200)
    expect(answer.json).toMatchObject({ jsonrpc: '2.0', id: null, result: { balanceMc: 100_000 } })
    expect(await socket.request(balance(null))).toMatchObject({ id: null, result: {} })
    expect(api.backend.calls).toHaveLength(2)
  })

  it('should echo the largest exact integer id and string ids as sent', async () => {
    const text = '{"jsonrpc":"2.0","id":9007199254740991,"method":"account.balance"}'
    expect((await postText(api, text)).text).toMatch(/^\{"jsonrpc":"2.0","id":9007199254740991,/)
    const odd = 'ü 💥 "quoted" \\ 9007199254740993'
    expect((await api.post(balance(odd))).json.id).toBe(odd)
    expect((await socket.request(balance(odd))).id).toBe(odd)
  })

  it('should refuse an integer id past 2^53 rather than echo it changed', async () => {
    const text = '{"jsonrpc":"2.0","id":9007199254740993,"method":"account.balance"}'
    for (const answer of [
      JSON.parse((await postText(api, text)).text),
      await socket.request(text),
    ]) {
      expect(answer).toMatchObject({
        id: null,
        error: { code: INVALID_REQUEST, data: { field: 'id' } },
      })
      expect((answer as WireMessage).error?.message).toMatch(/2\^53.*string/)
    }
    expect(api.backend.calls).toHaveLength(0)
  })

  for (const params of [3, 'id', true, null]) {
    it(`should refuse params ${JSON.stringify(params)} with INVALID_REQUEST`, async () => {
      const body = { jsonrpc: '2.0', id: 4, method: 'job.get', params }
      for (const answer of [(await api.post(body)).json, await socket.request(body)]) {
        expect(answer).toMatchObject({
          id: 4,
          error: { code: INVALID_REQUEST, data: { field: 'params' } },
        })
      }
      expect(api.backend.calls).toHaveLength(0)
    })
  }

  it('should refuse subscribe over POST as a method of the WebSocket, with 200', async () => {
    const body = { jsonrpc: '2.0', id: 5, method: 'subscribe', params: { topic: 'jobs' } }
    const answer = await api.post(body)
    expect(answer.status).toBe(200)
    expect(answer.json.error?.code).toBe(METHOD_NOT_FOUND)
    expect(answer.json.error?.message).toContain('/api/v1/ws')
    expect(api.backend.calls).toHaveLength(0)
  })

  it('should answer an invalid request over POST with 200 and a parse error with 400', async () => {
    const invalid = await api.post({ jsonrpc: '1.0', id: 6, method: 'mesh.info' })
    expect(invalid.status).toBe(200)
    expect(invalid.json.error?.code).toBe(INVALID_REQUEST)
    expect((await postText(api, '{"jsonrpc"')).status).toBe(400)
  })
})

/** The in-memory backend, failing every call with the error `failWith` names. */
class FailingBackend extends MemoryBackend {
  failWith: ErrorName = 'UNAUTHORIZED'
  override async call(...args: Parameters<MemoryBackend['call']>): Promise<never> {
    this.calls.push({ method: args[0], params: args[1], context: args[2] })
    throw new GridxError(this.failWith, `refused with ${this.failWith}`)
  }
}

describe('JSON-RPC errors over HTTP', () => {
  let api: TestGateway
  afterEach(() => api.stop())

  it('should send the error of a call the backend answered with 200, whatever its code', async () => {
    const backend = new FailingBackend()
    api = await startGateway({ backend })
    for (const name of ['UNAUTHORIZED', 'TOO_LARGE', 'RATE_LIMITED'] as const) {
      backend.failWith = name
      const answer = await api.post(balance(1))
      expect(answer.status).toBe(200)
      expect(answer.json.error).toMatchObject({ code: ERROR_CODES[name] })
    }
  })
})
