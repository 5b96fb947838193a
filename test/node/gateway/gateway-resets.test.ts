// Connections reset (TCP RST) at every stage of an exchange. The gateway runs in this
// process, so an error without a handler is an uncaught exception here and fails the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RESET_STAGES, resetThenProbe } from './fixtures/reset-stages.ts'
import { startGateway, TOKEN } from './fixtures/start-gateway.ts'
import type { TestGateway } from './fixtures/start-gateway.ts'

describe('gateway under connections reset at every stage', () => {
  let api: TestGateway
  beforeAll(async () => {
    api = await startGateway()
  })
  afterAll(() => api.stop())

  for (const stage of Object.keys(RESET_STAGES)) {
    it(`should stay up and answer /healthz when a client resets ${stage}`, async () => {
      expect(await resetThenProbe(api.address.port, TOKEN, stage)).toContain('HTTP/1.1 200')
      expect((await fetch(`${api.address.url}/healthz`)).status).toBe(200)
    })
  }
})
