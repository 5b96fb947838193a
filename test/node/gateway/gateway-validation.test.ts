import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  ERROR_CODES,
  ERROR_ECHO_CHARS_MAX,
  RPC_MESSAGE_BYTES_MAX,
} from '../../../protocol/index.ts'
import { startGateway, TestSocket, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway, WireMessage } from './fixtures/start-gateway.ts'

const spec = { runtime: 'python', code: 'print(1)' }
const submit = (params: unknown) => ({ jsonrpc: '2.0', id: 7, method: 'job.submit', params })

/** Each bad request, the code it must get, and the field it must name. */
const cases: readonly {
  readonly name: string
  readonly body: unknown
  readonly code: number
  readonly field?: string
}[] = [
  { name: 'non-JSON text', body: '{"jsonrpc":', code: ERROR_CODES.PARSE_ERROR },
  {
    name: 'the wrong jsonrpc version',
    body: { jsonrpc: '1.0', id: 1, method: 'mesh.info' },
    code: ERROR_CODES.INVALID_REQUEST,
    field: 'jsonrpc',
  },
  {
    name: 'a fractional id',
    body: { jsonrpc: '2.0', id: 1.5, method: 'mesh.info' },
    code: ERROR_CODES.INVALID_REQUEST,
    field: 'id',
  },
  {
    name: 'an extra envelope field',
    body: { jsonrpc: '2.0', id: 1, method: 'mesh.info', extra: 1 },
    code: ERROR_CODES.INVALID_REQUEST,
    field: 'extra',
  },
  {
    name: 'an unknown method',
    body: { jsonrpc: '2.0', id: 1, method: 'job.explode' },
    code: ERROR_CODES.METHOD_NOT_FOUND,
  },
  {
    name: 'an inherited property as method',
    body: { jsonrpc: '2.0', id: 1, method: 'toString' },
    code: ERROR_CODES.METHOD_NOT_FOUND,
  },
  {
    name: 'a wrong nested type',
    body: submit({ idempotencyId: 'a', spec: { ...spec, memoryMb: 'lots' } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.memoryMb',
  },
  {
    name: 'a number over its bound',
    body: submit({ idempotencyId: 'a', spec: { ...spec, memoryMb: 10_000_000 } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.memoryMb',
  },
  {
    name: 'a missing required field',
    body: submit({ idempotencyId: 'a', spec: { runtime: 'python' } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.code',
  },
  {
    name: 'an extra params field',
    body: submit({ idempotencyId: 'a', spec: { ...spec, sudo: true } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.sudo',
  },
  {
    name: 'a wrong array element',
    body: submit({ idempotencyId: 'a', spec: { ...spec, args: ['ok', 3] } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.args.1',
  },
  {
    name: 'code over its byte limit',
    body: submit({ idempotencyId: 'a', spec: { ...spec, code: 'é'.repeat(600_000) } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.code',
  },
  {
    name: 'a NUL byte in an argument',
    body: submit({ idempotencyId: 'a', spec: { ...spec, args: ['ok', 'a\u0000b'] } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.args.1',
  },
  {
    name: 'a NUL byte in an environment value',
    body: submit({ idempotencyId: 'a', spec: { ...spec, env: { A: 'x\u0000' } } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.env.A',
  },
  {
    // JSON carries a lone surrogate as an escape; no UTF-8 encodes it, so the engine refused
    // the container after the job was queued and paid for.
    name: 'a lone surrogate in an argument',
    body: submit({ idempotencyId: 'a', spec: { ...spec, args: ['ok', 'a\ud800'] } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.args.1',
  },
  {
    name: 'a lone surrogate in an environment value',
    body: submit({ idempotencyId: 'a', spec: { ...spec, env: { A: '\udfffx' } } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.env.A',
  },
  {
    // Stored as UTF-8, it would become U+FFFD: the job would run other code than was sent.
    name: 'a lone surrogate in the code',
    body: submit({ idempotencyId: 'a', spec: { ...spec, code: 'print("\ud800")' } }),
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'spec.code',
  },
  {
    // Structured, so a valid request, but every method takes its params by name.
    name: 'params that are an array',
    body: { jsonrpc: '2.0', id: 1, method: 'job.get', params: ['j1234567'] },
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'params',
  },
  {
    name: 'params that are not structured',
    body: { jsonrpc: '2.0', id: 1, method: 'job.get', params: 'j1234567' },
    code: ERROR_CODES.INVALID_REQUEST,
    field: 'params',
  },
  {
    name: 'params missing where a field is required',
    body: { jsonrpc: '2.0', id: 1, method: 'job.get' },
    code: ERROR_CODES.INVALID_PARAMS,
    field: 'id',
  },
]

describe('gateway request validation', () => {
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

  const check = (answer: WireMessage, expected: (typeof cases)[number]) => {
    expect(answer.error?.code).toBe(expected.code)
    if (expected.field !== undefined) {
      expect(answer.error?.data?.field).toBe(expected.field)
      expect(answer.error?.message).toContain(expected.field)
    }
    expect(api.backend.calls).toHaveLength(0)
  }

  for (const expected of cases) {
    it(`should refuse ${expected.name} over POST and change nothing`, async () => {
      const answer = await api.post(expected.body)
      expect(answer.status).toBeLessThan(500)
      check(answer.json, expected)
    })

    it(`should refuse ${expected.name} over the WebSocket and change nothing`, async () => {
      check(await socket.request(expected.body), expected)
    })
  }

  it('should answer with the request id when only the params are wrong', async () => {
    const answer = await socket.request(submit({ idempotencyId: 'a' }))
    expect(answer).toMatchObject({ jsonrpc: '2.0', id: 7, error: { data: { field: 'spec' } } })
  })

  it('should answer 200 with a JSON-RPC error for INVALID_PARAMS and 400 for PARSE_ERROR', async () => {
    expect((await api.post(submit({}))).status).toBe(200)
    expect((await api.post('nope')).status).toBe(400)
  })

  it('should apply params defaults before the backend sees them', async () => {
    const answer = await api.post(submit({ idempotencyId: 'a', spec }))
    expect(answer.json.result).toMatchObject({ created: true, job: { state: 'queued' } })
    expect(api.backend.calls[0]?.params).toMatchObject({ spec: { memoryMb: 512, args: [] } })
  })

  it('should send a GridxError from the backend with its code and data', async () => {
    const answer = await socket.request({
      jsonrpc: '2.0',
      id: 'q',
      method: 'job.get',
      params: { id: 'jzzzzzzz' },
    })
    expect(answer.error).toEqual({
      code: ERROR_CODES.NOT_FOUND,
      message: 'no such job',
      data: { field: 'id' },
    })
  })

  it('should hide the message of an unexpected backend failure', async () => {
    const answer = await api.post({ jsonrpc: '2.0', id: 3, method: 'mesh.info' })
    expect(answer.status).toBe(200)
    expect(answer.json.error).toEqual({
      code: ERROR_CODES.INTERNAL_ERROR,
      message: 'internal error',
    })
    expect(JSON.stringify(answer.json)).not.toContain('secret')
  })

  it('should refuse subscriptions over POST', async () => {
    const body = { jsonrpc: '2.0', id: 4, method: 'subscribe', params: { topic: 'jobs' } }
    const answer = await api.post(body)
    expect(answer.json.error?.code).toBe(ERROR_CODES.METHOD_NOT_FOUND)
    expect(api.backend.calls).toHaveLength(0)
  })
})

describe('gateway message size', () => {
  let api: TestGateway
  beforeAll(async () => {
    api = await startGateway()
  })
  afterAll(() => api.stop())

  it('should refuse a body over the limit with 413 TOO_LARGE', async () => {
    const big = JSON.stringify(submit({ idempotencyId: 'a', spec: { ...spec, code: '' } }))
    const body = big.replace('"code":""', `"code":"${'x'.repeat(RPC_MESSAGE_BYTES_MAX)}"`)
    const answer = await api.post(body)
    expect(answer.status).toBe(413)
    expect(answer.json.error).toMatchObject({ code: ERROR_CODES.TOO_LARGE })
    expect(api.backend.calls).toHaveLength(0)
  })

  it('should refuse a streamed body over the limit without a content-length', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(1024 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const response = await fetch(`${api.address.url}/api/v1/rpc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(response.status).toBe(413)
    expect((await response.json()).error.code).toBe(ERROR_CODES.TOO_LARGE)
  })

  const MIB = 1024 * 1024
  const hugeKey = 'k'.repeat(3 * MIB)
  const echoes = {
    'an unknown params key': submit({ idempotencyId: 'a', spec: { ...spec, [hugeKey]: 1 } }),
    'an unknown envelope key': { jsonrpc: '2.0', id: 1, method: 'mesh.info', [hugeKey]: 1 },
    'a bad environment name': submit({
      idempotencyId: 'a',
      spec: { ...spec, env: { [hugeKey]: 'v' } },
    }),
  }
  for (const [what, body] of Object.entries(echoes)) {
    it(`should echo at most ERROR_ECHO_CHARS_MAX of ${what} of 3 MiB`, async () => {
      const answer = await api.post(body)
      const field = answer.json.error?.data?.field ?? ''
      expect(field.length).toBeLessThanOrEqual(ERROR_ECHO_CHARS_MAX)
      expect(field.startsWith('kkkk') || field.startsWith('spec.')).toBe(true)
      expect(answer.json.error?.message).toContain(field)
      expect(JSON.stringify(answer.json).length).toBeLessThan(4 * ERROR_ECHO_CHARS_MAX)
    })
  }

  const invalidUtf8 = Buffer.concat([
    Buffer.from('{"jsonrpc":"2.0","id":5,"method":"job.quote","params":{"spec":'),
    Buffer.from('{"runtime":"bash","code":"echo '),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}}}'),
  ])

  it('should refuse a body that is not valid UTF-8 with 400 PARSE_ERROR', async () => {
    const response = await fetch(`${api.address.url}/api/v1/rpc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: invalidUtf8,
    })
    expect(response.status).toBe(400)
    expect((await response.json()).error).toEqual({
      code: ERROR_CODES.PARSE_ERROR,
      message: 'request is not valid UTF-8',
    })
    expect(api.backend.calls).toHaveLength(0)
  })

  it('should refuse a binary frame that is not valid UTF-8 with PARSE_ERROR', async () => {
    const socket = await TestSocket.open(api.wsUrl)
    const answer = await new Promise<WireMessage>((resolve) => {
      socket.socket.once('message', (data) => resolve(JSON.parse(String(data)) as WireMessage))
      socket.socket.send(invalidUtf8, { binary: true })
    })
    expect(answer.error?.code).toBe(ERROR_CODES.PARSE_ERROR)
    expect(api.backend.calls).toHaveLength(0)
    socket.close()
  })

  it('should close a WebSocket whose text frame is not valid UTF-8 with 1007', async () => {
    const socket = await TestSocket.open(api.wsUrl)
    // ws validates text frames itself; a client library that skips it sends such a frame.
    const raw = socket.socket as unknown as { _sender: { send(d: Buffer, o: object): void } }
    raw._sender.send(invalidUtf8, { binary: false, fin: true, mask: true, rsv1: false, opcode: 1 })
    expect((await socket.closed()).code).toBe(1007)
  })

  it('should close a WebSocket whose frame is over the limit with 1009', async () => {
    const socket = await TestSocket.open(api.wsUrl)
    socket.socket.send('x'.repeat(RPC_MESSAGE_BYTES_MAX + 1))
    expect((await socket.closed()).code).toBe(1009)
    expect(api.backend.calls).toHaveLength(0)
  })
})
