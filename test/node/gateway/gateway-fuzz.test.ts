import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../../protocol/index.ts'
import { badRequest } from './fixtures/bad-requests.ts'
import type { BadRequest } from './fixtures/bad-requests.ts'
import { startGateway, TestSocket } from './fixtures/start-gateway.ts'
import type { TestGateway, WireMessage } from './fixtures/start-gateway.ts'

const KNOWN_CODES = new Set<number>(Object.values(ERROR_CODES))
/** Each run sends its request over both transports: 2 × RUNS requests in all. */
const RUNS = 1200

describe('gateway under generated bad requests', () => {
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

  function checkAnswer(bad: BadRequest, answer: WireMessage | WireMessage[]) {
    if (Array.isArray(answer)) {
      expect(answer.length).toBeGreaterThan(0)
      for (const member of answer) checkAnswer(bad, member)
      return
    }
    expect(answer.jsonrpc).toBe('2.0')
    expect(answer).not.toHaveProperty('result')
    expect(KNOWN_CODES.has(answer.error?.code ?? 0)).toBe(true)
    expect(typeof answer.error?.message).toBe('string')
    if (bad.code !== undefined) expect(answer.error?.code).toBe(bad.code)
    if (bad.field !== undefined) expect(answer.error?.data?.field).toBe(bad.field)
  }

  it('should answer every bad request with a JSON-RPC error and never call the backend', async () => {
    let sent = 0
    await fc.assert(
      fc.asyncProperty(badRequest, async (bad) => {
        const overHttp = await api.post(bad.text)
        expect([200, 400, 413]).toContain(overHttp.status)
        checkAnswer(bad, overHttp.json)
        const overWs = await socket.request(bad.text)
        checkAnswer(bad, overWs)
        // Both transports share one validation: the same refusal, word for word.
        expect(overWs.error).toEqual(overHttp.json.error)
        expect(api.backend.calls).toHaveLength(0)
        sent += 2
      }),
      { numRuns: RUNS },
    )
    expect(sent).toBeGreaterThanOrEqual(2000)
    expect(socket.socket.readyState).toBe(socket.socket.OPEN)
    expect((await fetch(`${api.address.url}/healthz`)).status).toBe(200)
  })
})
