// A real daemon (LevelDB, libp2p, gateway; no executor) under connections reset at every
// stage: it runs in this process, so a missing error handler fails the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'
import { RESET_STAGES, resetThenProbe } from '../node/gateway/fixtures/reset-stages.ts'

describe('daemon under connections reset at every stage', () => {
  let node: TestDaemon
  beforeAll(async () => {
    node = await startTestDaemon({ executor: false })
  })
  afterAll(() => node.destroy())

  it('should answer /healthz after each reset', async () => {
    for (const stage of Object.keys(RESET_STAGES)) {
      expect(
        await resetThenProbe(node.daemon.address.port, node.daemon.token, stage),
        stage,
      ).toContain('HTTP/1.1 200')
    }
    expect((await node.call('account.balance', {})).balanceMc).toBe(100_000)
  })
})
