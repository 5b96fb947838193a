// A result that comes back under a fence the log has moved past, on the real protocol: the
// executor finished its job while no coordinator was there, the new coordinator declared it
// lost, and only then did the result arrive.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { jobId } from '../coordinator/fixtures/executor-mesh.ts'
import { startFailover, succeeded, type Failover } from './fixtures/executor-failover.ts'

const LEASE_MS = 2000

let failover: Failover
afterEach(async () => {
  await failover.stop()
})

const balances = () =>
  [...failover.ledger.localRead().accounts].map(([account, { balanceMc, escrowedMc }]) => ({
    account,
    balanceMc,
    escrowedMc,
  }))

describe('a result under a stale fence', () => {
  it('should be refused and change nothing when it arrives after its job was lost', async () => {
    failover = await startFailover()
    const executor = await failover.executor()
    const first = await failover.coordinator(LEASE_MS)
    failover.target = first.address
    const id = jobId(7)
    await failover.submit(id)
    const run = await executor.runner.started(id)
    const stale = failover.job(id).fence as number
    failover.target = undefined
    await first.stop()
    await executor.connections.next((event) => event.type === 'disconnected')
    run.finish(succeeded('stale\n'))
    const second = await failover.coordinator(LEASE_MS)
    expect(await second.sweeps.next(() => true, 4 * LEASE_MS)).toEqual([id])
    await failover.applied((command) => command.type === 'job.lost' && command.jobId === id)
    const before = balances()
    expect(executor.client.reportBuffer.size).toBeGreaterThan(0)

    const refused = failover.applied(
      (command, ok) =>
        command.type === 'job.finish' && (command as { fence?: number }).fence === stale && !ok,
    )
    failover.target = second.address
    await refused
    expect(balances()).toEqual(before)
    expect(failover.job(id).result).toBeNull()
    expect(failover.job(id).state).not.toBe('succeeded')

    // The refusal is an answer: the executor forgets the report; the rerun is paid once.
    const rerun = await executor.runner.runs.next((next) => next.jobId === id && next.fence > stale)
    const settled = failover.applied((command, ok) => command.type === 'job.finish' && ok)
    rerun.finish(succeeded('fresh\n'))
    await settled
    expect(failover.job(id)).toMatchObject({ state: 'succeeded', fence: rerun.fence })
    expect(failover.job(id).result?.stdoutTail).toBe('fresh\n')
    // Both finished reports were answered (the stale one refused), so neither is resent.
    await vi.waitFor(() => expect(executor.client.reportBuffer.size).toBe(0), { timeout: 5000 })
  })
})
