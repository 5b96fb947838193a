// Executors across a change of coordinator, on the real protocol over libp2p on loopback: the
// state outlives the coordinator; a new one gives every executor a lease to come back, checks
// what it says it runs against the state, and refuses what it reports under a stale fence.
import { afterEach, describe, expect, it } from 'vitest'
import { JOB_RETRIES_MAX } from '../../../protocol/index.ts'
import { jobId } from '../coordinator/fixtures/executor-mesh.ts'
import { staleJobs } from '../../../node/daemon/daemon-executors.ts'
import { startFailover, SUBMITTER, succeeded, type Failover } from './fixtures/executor-failover.ts'

/** Long enough for a reconnect on a shared, loaded machine; heartbeats go every 50 ms. */
const LEASE_MS = 2000

let failover: Failover
afterEach(async () => {
  await failover.stop()
})

/** A coordinator, an executor running job `id` there, then that coordinator's death. */
async function runningThenOrphaned(id: string) {
  failover = await startFailover()
  const executor = await failover.executor()
  const first = await failover.coordinator(LEASE_MS)
  failover.target = first.address
  await failover.submit(id)
  const run = await executor.runner.started(id)
  const started = failover.applied((command, ok) => command.type === 'job.start' && ok)
  run.hooks.onStarted?.()
  await started
  const fence = failover.job(id).fence as number
  failover.target = undefined
  await first.stop()
  await executor.connections.next((event) => event.type === 'disconnected')
  return { executor, run, fence }
}

describe('serveExecutors across a change of coordinator', () => {
  it('should cancel a job on reconnect when its cancel was committed while it was away', async () => {
    const id = jobId(1)
    const { executor } = await runningThenOrphaned(id)
    const cancel = { type: 'job.cancel', jobId: id, by: SUBMITTER } as const
    expect((await failover.ledger.propose(cancel)).ok).toBe(true)
    const second = await failover.coordinator(LEASE_MS)
    failover.target = second.address
    expect(await executor.runner.cancelled.next((job) => job === id)).toBe(id)
    expect(failover.job(id).state).toBe('cancelled')
  })

  it('should stop a job on reconnect when the state gave it to another executor', async () => {
    const id = jobId(2)
    const { executor, fence } = await runningThenOrphaned(id)
    const other = await failover.executor('owner-carol', false)
    const lost = { type: 'job.lost', jobId: id, fence, reason: 'test: its lease ran out' } as const
    expect((await failover.ledger.propose(lost)).ok).toBe(true)
    const reassigned = { type: 'job.assign', jobId: id, executor: other.peer } as const
    expect((await failover.ledger.propose(reassigned)).ok).toBe(true)
    const second = await failover.coordinator(LEASE_MS)
    failover.target = second.address
    expect(await executor.runner.cancelled.next((job) => job === id)).toBe(id)
    expect(failover.job(id)).toMatchObject({ state: 'assigned', executor: other.peer })
  })

  it('should rerun a job when the state gave it to the same executor under a newer fence', async () => {
    const id = jobId(6)
    const { executor, fence } = await runningThenOrphaned(id)
    const lost = { type: 'job.lost', jobId: id, fence, reason: 'test: its lease ran out' } as const
    expect((await failover.ledger.propose(lost)).ok).toBe(true)
    const again = { type: 'job.assign', jobId: id, executor: executor.peer } as const
    expect((await failover.ledger.propose(again)).ok).toBe(true)
    const second = await failover.coordinator(LEASE_MS)
    failover.target = second.address
    expect(await executor.runner.cancelled.next((job) => job === id)).toBe(id)
    // The assignment it never received is lost; the scheduler places the job anew.
    const rerun = await executor.runner.runs.next((run) => run.jobId === id && run.fence > fence)
    expect(failover.job(id)).toMatchObject({ state: 'assigned', fence: rerun.fence })
  })

  it('should declare no job lost when its executor reconnects within the lease', async () => {
    const id = jobId(3)
    const { executor, run, fence } = await runningThenOrphaned(id)
    const second = await failover.coordinator(LEASE_MS)
    failover.target = second.address
    await executor.connections.next(
      (event) =>
        event.type === 'connected' && event.coordinator === second.address.peerId.toString(),
    )
    expect(await second.sweeps.next(() => true, 4 * LEASE_MS)).toEqual([])
    expect(failover.job(id)).toMatchObject({ state: 'running', fence })
    // The job went on meanwhile; its result reaches the new coordinator and settles.
    const finished = failover.applied((command, ok) => command.type === 'job.finish' && ok)
    run.finish(succeeded('done\n'))
    await finished
    expect(failover.job(id).state).toBe('succeeded')
  })

  it('should declare its jobs lost and requeue them when the executor stays away', async () => {
    const id = jobId(4)
    await runningThenOrphaned(id)
    const second = await failover.coordinator(LEASE_MS)
    expect(await second.sweeps.next(() => true, 4 * LEASE_MS)).toEqual([id])
    await failover.applied((command) => command.type === 'job.lost' && command.jobId === id)
    expect(failover.job(id)).toMatchObject({ state: 'queued', executor: null, attempts: 1 })
  })

  it('should fail the job for good when the executor stays away past the retry limit', async () => {
    const id = jobId(5)
    const { executor } = await runningThenOrphaned(id)
    for (let attempt = 2; attempt <= JOB_RETRIES_MAX + 1; attempt += 1) {
      const fence = failover.job(id).fence as number
      const lost = { type: 'job.lost', jobId: id, fence, reason: 'test: lost again' } as const
      expect((await failover.ledger.propose(lost)).ok).toBe(true)
      const assign = { type: 'job.assign', jobId: id, executor: executor.peer } as const
      expect((await failover.ledger.propose(assign)).ok).toBe(true)
    }
    expect(failover.job(id).attempts).toBe(JOB_RETRIES_MAX + 1)
    const second = await failover.coordinator(LEASE_MS)
    expect(await second.sweeps.next(() => true, 4 * LEASE_MS)).toEqual([id])
    await failover.applied((command) => command.type === 'job.lost' && command.jobId === id)
    expect(failover.job(id).state).toBe('failed')
  })

  it('should leave a job alone when the state assigned it to the executor after its hello', async () => {
    failover = await startFailover()
    const executor = await failover.executor('owner-bob', false)
    const id = jobId(8)
    await failover.submit(id)
    const assign = { type: 'job.assign', jobId: id, executor: executor.peer } as const
    const assigned = await failover.ledger.propose(assign)
    const fence = (assigned.ok && (assigned.value as { fence: number }).fence) as number
    // Its hello named an older run of the job (one whose result awaits its ack, say).
    const hello = [{ jobId: id, fence: fence - 1 }]
    const state = failover.ledger.localRead()
    // An assignment past the log's end at the hello went out on this stream, after the hello.
    expect(staleJobs(state, executor.peer, hello, fence - 1)).toEqual([])
    // One the log held already was the predecessor's, and never reached the executor.
    expect(staleJobs(state, executor.peer, hello, fence)).toEqual(hello)
  })
})
