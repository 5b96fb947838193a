// What the gateway writes to the daemon's log when clients misbehave: a client's abort is
// not the daemon's error, and nothing a client put in a URL (a ?token=) is ever logged.
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { API_PATH } from '../../../protocol/index.ts'
import { openRaw, upgradeRequest } from './fixtures/raw-socket.ts'
import { startGateway, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

interface LogLine {
  readonly level: number
  readonly msg: string
  readonly [key: string]: unknown
}

const WARN = 40
const SECRET = 'query-secret-8d1e'

/** A gateway whose log, at debug, is collected as parsed lines and raw text. */
async function loggedGateway() {
  const raw: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) })
  const api = await startGateway({ logger })
  const lines = () => raw.map((line) => JSON.parse(line) as LogLine)
  return { api, raw, lines }
}

const partialPost = (host: string, path: string) =>
  `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
  'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc":'

describe('gateway log', () => {
  let api: TestGateway
  afterEach(() => api.stop())

  for (const how of ['reset', 'close'] as const) {
    it(`should log a client's abort mid-body (${how}) at debug, without the query`, async () => {
      const logged = await loggedGateway()
      api = logged.api
      const client = await openRaw(api.address.port)
      client.write(partialPost(client.host, `${API_PATH}?token=${SECRET}`))
      // Headers are in once the server answers a later request on another connection.
      const probe = await openRaw(api.address.port)
      probe.write(`GET /healthz HTTP/1.1\r\nHost: ${probe.host}\r\n\r\n`)
      await probe.waitFor('"status":"ok"')
      if (how === 'reset') client.reset()
      else client.socket.destroy()
      await expect
        .poll(() => logged.lines().some((line) => line.msg === 'client aborted the request'))
        .toBe(true)
      const aborted = logged.lines().find((line) => line.msg === 'client aborted the request')
      expect(aborted).toMatchObject({ level: 20, path: API_PATH })
      expect(logged.lines().filter((line) => line.level >= WARN)).toEqual([])
      expect(logged.raw.join('')).not.toContain(SECRET)
      probe.reset()
    })
  }

  it('should never log the query of a refused or accepted upgrade', async () => {
    const logged = await loggedGateway()
    api = logged.api
    const refused = await openRaw(api.address.port)
    refused.write(upgradeRequest(refused.host, `/api/v1/ws?token=${SECRET}`))
    await refused.waitFor('401')
    refused.reset()
    const accepted = await openRaw(api.address.port)
    accepted.write(upgradeRequest(accepted.host, `/api/v1/ws?token=${TOKEN}&x=${SECRET}`))
    await accepted.waitFor('101 Switching Protocols')
    accepted.reset()
    // Both are over once the server has counted the accepted socket closed.
    const metrics = async () => (await fetch(`${api.address.url}/metrics`)).text()
    await expect.poll(metrics).toContain('gridx_api_websocket_connections 0')
    expect(logged.raw.join('')).not.toContain(SECRET)
    expect(logged.raw.join('')).not.toContain(TOKEN)
  })
})
