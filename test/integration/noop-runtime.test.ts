// The noop runtime through a real daemon (API, ledger, scheduler, settlement), no Docker needed:
// refused by the API where no executor offers it, run and priced like any job where one does.
import { afterEach, describe, expect, it } from 'vitest'
import { DockerExecutor, withNoopRuntime } from '../../node/executor/index.ts'
import { DEFAULT_POLICY, GridxError, priceMc } from '../../protocol/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'

const started: TestDaemon[] = []
afterEach(async () => {
  for (const node of started.splice(0)) await node.destroy()
})

/** An executor whose engine is absent, so that only what the noop runtime adds can run. */
const engineless = (peerId: string) =>
  new DockerExecutor({ executorId: peerId, dockerHost: 'unix:///nonexistent/docker.sock' })

async function daemon(noop: boolean): Promise<TestDaemon> {
  const node = await startTestDaemon({
    createExecutor: (peerId) => (noop ? withNoopRuntime(engineless(peerId)) : engineless(peerId)),
  })
  started.push(node)
  return node
}

describe('the noop runtime', () => {
  it('should be refused by the API with a clear error when no executor offers it', async () => {
    const node = await daemon(false)
    const error = await node
      .call('job.submit', { idempotencyId: 'noop-refused', spec: { runtime: 'noop', code: '' } })
      .then(
        () => new Error('accepted'),
        (reason: unknown) => reason,
      )
    expect(error).toBeInstanceOf(GridxError)
    expect((error as GridxError).name).toBe('UNAVAILABLE')
    expect((error as GridxError).message).toMatch(/no peer in this mesh can run noop jobs/)
    expect((await node.call('job.list', {})).jobs).toEqual([])
  })

  it('should run a noop job and settle its price when the executor offers noop', async () => {
    const node = await daemon(true)
    const { job } = await node.call('job.submit', {
      idempotencyId: 'noop-runs',
      spec: { runtime: 'noop', code: 'anything', cpus: 2 },
    })
    const done = await node.waitForJob(job.id, 10_000)
    expect(done.state).toBe('succeeded')
    expect(done.result).toMatchObject({ exitCode: 0, stdoutTail: '', stderrTail: '' })
    expect(done.priceMc).toBe(priceMc(DEFAULT_POLICY, done.spec, done.result?.wallMs ?? NaN))
    expect((done.executorPaidMc ?? NaN) + (done.feesPaidMc ?? NaN)).toBe(done.priceMc)
  })
})
