// Clients that hold the port without finishing anything: slow headers, slow bodies, and many
// idle sockets. Each is cut by a bound, and the gateway keeps answering others.
import { afterEach, describe, expect, it } from 'vitest'
import { API_PATH } from '../../../protocol/index.ts'
import { openRaw } from './fixtures/raw-socket.ts'
import type { RawSocket } from './fixtures/raw-socket.ts'
import { startGateway, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

const TIMEOUT_MS = 400

/** Writes `line` every 50 ms until the server ends the connection; resolves with the time. */
async function trickle(raw: RawSocket, first: string, line: string): Promise<number> {
  const started = performance.now()
  raw.write(first)
  const timer = setInterval(() => raw.write(line), 50)
  try {
    await raw.ended()
  } finally {
    clearInterval(timer)
  }
  return performance.now() - started
}

describe('gateway under slow clients', () => {
  let api: TestGateway
  afterEach(() => api.stop())

  it('should cut a client that sends headers slowly soon after the request timeout', async () => {
    api = await startGateway({ limits: { requestTimeoutMs: TIMEOUT_MS } })
    const raw = await openRaw(api.address.port)
    const head = `GET /healthz HTTP/1.1\r\nHost: ${raw.host}\r\n`
    const elapsedMs = await trickle(raw, head, 'X-Slow: 1\r\n')
    expect(elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50)
    expect(elapsedMs).toBeLessThan(TIMEOUT_MS * 3)
    expect((await fetch(`${api.address.url}/healthz`)).status).toBe(200)
  })

  it('should cut a client that sends a body slowly soon after the request timeout', async () => {
    api = await startGateway({ limits: { requestTimeoutMs: TIMEOUT_MS } })
    const raw = await openRaw(api.address.port)
    const head =
      `POST ${API_PATH} HTTP/1.1\r\nHost: ${raw.host}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      'Content-Length: 100000\r\n\r\n'
    const elapsedMs = await trickle(raw, head, ' ')
    expect(elapsedMs).toBeLessThan(TIMEOUT_MS * 3)
    expect(api.backend.calls).toHaveLength(0)
  })

  it('should hold at most its bound of idle sockets and recover when they go', async () => {
    // A request timeout far away: only the bound can end these sockets within the test.
    api = await startGateway({ limits: { httpConnectionsMax: 8, requestTimeoutMs: 60_000 } })
    const idle: RawSocket[] = []
    for (let opened = 0; opened < 20; opened++) idle.push(await openRaw(api.address.port))
    // Past the bound the server closes a socket as soon as it accepts it.
    const started = performance.now()
    await Promise.all(idle.slice(8).map((raw) => raw.ended()))
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(idle.slice(0, 8).map((raw) => raw.hasEnded)).toEqual(Array(8).fill(false))
    for (const raw of idle.slice(0, 8)) raw.reset()
    await expect
      .poll(async () => (await fetch(`${api.address.url}/healthz`).catch(() => undefined))?.status)
      .toBe(200)
  })
})
