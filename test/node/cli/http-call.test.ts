// The CLI's one-shot calls over node:http answer as protocol's httpCall (over fetch) does: the
// same suite runs over both, against a real gateway.
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { httpCall as cliHttpCall } from '../../../node/cli/http-call.ts'
import { httpCall as protocolHttpCall, RPC_MESSAGE_BYTES_MAX } from '../../../protocol/index.ts'
import { startGateway, TOKEN } from '../gateway/fixtures/start-gateway.ts'
import type { TestGateway } from '../gateway/fixtures/start-gateway.ts'

const implementations = [
  { name: 'node/cli http-call (node:http)', httpCall: cliHttpCall },
  { name: 'protocol httpCall (fetch)', httpCall: protocolHttpCall },
] as const

/** A server that answers every request with `body`, for answers no gateway would give. */
async function answering(body: string | Buffer): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => response.end(body))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

for (const { name, httpCall } of implementations) {
  describe(name, () => {
    let api: TestGateway | undefined
    let server: Server | undefined
    afterEach(async () => {
      await api?.stop()
      server?.close()
      api = undefined
      server = undefined
    })

    it('should return the result when the call succeeds', async () => {
      api = await startGateway()
      const balance = await httpCall(`${api.address.url}/`, TOKEN, 'account.balance', {})
      expect(balance.balanceMc).toBe(100_000)
    })

    it('should rebuild the error as GridxError when the daemon refuses the call', async () => {
      api = await startGateway()
      const wrongToken = httpCall(api.address.url, 'nope', 'account.balance', {})
      await expect(wrongToken).rejects.toMatchObject({ name: 'UNAUTHORIZED' })
      const bad = httpCall(api.address.url, TOKEN, 'job.get', { id: 'x' })
      await expect(bad).rejects.toMatchObject({ name: 'INVALID_PARAMS', data: { field: 'id' } })
    })

    it('should reject with UNAVAILABLE when the answer is not JSON', async () => {
      ;({ server } = await answering('<html>a proxy page</html>'))
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const call = httpCall(url, TOKEN, 'account.balance', {})
      await expect(call).rejects.toMatchObject({ name: 'UNAVAILABLE', data: { status: 200 } })
    })

    it('should reject with the socket code when nothing listens', async () => {
      // A port just freed: fetch refuses some well-known ports (9) before any socket opens.
      const { url, server: closing } = await answering('')
      await new Promise((resolve) => closing.close(resolve))
      const call = httpCall(url, TOKEN, 'account.balance', {})
      const error = await call.then(
        () => undefined,
        (failure: { code?: string; cause?: { code?: string } }) => failure,
      )
      expect(error?.cause?.code ?? error?.code).toBe('ECONNREFUSED')
    })
  })
}

describe('node/cli http-call limits', () => {
  let server: Server | undefined
  afterEach(() => server?.close())

  it('should reject with TOO_LARGE when the answer is over the message limit', async () => {
    let url: string
    ;({ url, server } = await answering(Buffer.alloc(RPC_MESSAGE_BYTES_MAX + 1, 0x20)))
    const call = cliHttpCall(url, TOKEN, 'account.balance', {})
    await expect(call).rejects.toMatchObject({ name: 'TOO_LARGE' })
  })
})
