// Jobs this peer's executor client took from another coordinator, when this peer becomes the
// coordinator itself: two voters (RaftDrivers on LevelDB over an in-memory Raft transport,
// ticked in the background), each with a real libp2p node on 127.0.0.1 running what the
// daemon runs: its scheduler while it leads, serveExecutors, and on the executor peer its
// LocalExecutorLink and dialCoordinator.
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { transferLeadership } from '../../../ledger/index.ts'
import { startLogsRelay } from '../../../node/daemon/daemon-logs.ts'
import { jobId, Recorder } from '../coordinator/fixtures/executor-mesh.ts'
import { SUBMITTER, succeeded } from './fixtures/executor-failover.ts'
import { LEASE_MS, meshOfTwo, overload, stopAll } from './fixtures/local-link-mesh.ts'

const silent = pino({ level: 'silent' })
afterEach(stopAll)

describe('LocalExecutorLink across a change of coordinator', () => {
  it('should resend a result whose proposal failed when the coordinator took it', async () => {
    const peers = await meshOfTwo()
    const { ledgerA, runner, lost, submit, finished } = peers
    const id = jobId(16)
    await submit(id)
    const run = await runner.started(id)
    const heal = overload(peers, ledgerA)
    const done = finished(ledgerA)
    run.finish(succeeded('kept\n'))
    await heal()
    await done
    expect(ledgerA.localRead().jobs.get(id)).toMatchObject({ state: 'succeeded' })
    expect(lost).toEqual([])
  })

  it('should retry a result its own scheduler failed to propose while it leads', async () => {
    const peers = await meshOfTwo()
    const { ledgerA, ledgerB, runner, lost, submit, finished } = peers
    const id = jobId(17)
    await submit(id)
    const run = await runner.started(id)
    // The client's job is adopted by the local link: its report goes to B's own scheduler.
    await transferLeadership(ledgerA, ledgerB.id)
    const heal = overload(peers, ledgerB)
    const done = finished(ledgerB)
    run.finish(succeeded('kept\n'))
    await heal()
    await done
    expect(ledgerB.localRead().jobs.get(id)).toMatchObject({ state: 'succeeded' })
    expect(lost).toEqual([])
  })

  it("should take over the client's jobs when its own peer becomes coordinator", async () => {
    const { b, ledgerA, ledgerB, propose, sweeps, runner, link, lost, submit, finished } =
      await meshOfTwo()
    const [finishing, cancelling] = [jobId(11), jobId(12)]
    for (const id of [finishing, cancelling]) await submit(id)
    const runs = [await runner.started(finishing), await runner.started(cancelling)]
    // A assigned them to B's executor client (a follower may apply it a little later).
    expect(runs.map((run) => ledgerA.localRead().jobs.get(run.jobId)?.executor)).toEqual([
      b.id,
      b.id,
    ])

    await transferLeadership(ledgerA, b.id)
    expect(ledgerB.status().role).toBe('leader')
    expect(link.runningJobs()).toEqual(new Set([finishing, cancelling]))
    const done = finished(ledgerB)
    runs[0]!.finish(succeeded('done\n'))
    await done
    expect(ledgerB.localRead().jobs.get(finishing)).toMatchObject({ state: 'succeeded' })

    await propose({ type: 'job.cancel', jobId: cancelling, by: SUBMITTER })
    expect(await runner.cancelled.next((id) => id === cancelling)).toBe(cancelling)
    const swept = await sweeps.next((sweep) => sweep.peer === b.id, 4 * LEASE_MS)
    expect(swept.lost).toEqual([])
    expect(lost).toEqual([])
  })

  it("should keep the local link's jobs, listed in its hello, when its peer steps down", async () => {
    const { a, b, ledgerA, ledgerB, propose, sweeps, runner, lost, submit, finished } =
      await meshOfTwo()
    await transferLeadership(ledgerA, b.id)
    const [finishing, cancelling] = [jobId(13), jobId(14)]
    for (const id of [finishing, cancelling]) await submit(id)
    const runs = [await runner.started(finishing), await runner.started(cancelling)]

    await transferLeadership(ledgerB, a.id)
    expect(ledgerA.status().role).toBe('leader')
    const swept = await sweeps.next((sweep) => sweep.peer === a.id, 4 * LEASE_MS)
    expect(swept.lost).toEqual([])
    const done = finished(ledgerA)
    runs[0]!.finish(succeeded('done\n'))
    await done
    expect(ledgerA.localRead().jobs.get(finishing)).toMatchObject({ state: 'succeeded' })

    await propose({ type: 'job.cancel', jobId: cancelling, by: SUBMITTER })
    expect(await runner.cancelled.next((id) => id === cancelling)).toBe(cancelling)
    expect(lost).toEqual([])
  })

  it('should hand its jobs back at once when its executor stops with no drain left', async () => {
    const { ledgerA, runner, submit, stopExecutor } = await meshOfTwo()
    const id = jobId(15)
    await submit(id)
    await runner.started(id)
    const requeued = new Promise<void>((resolve) =>
      ledgerA.onApplied((entry) => {
        if (
          entry.command.type === 'job.finish' &&
          ledgerA.localRead().jobs.get(id)?.state === 'queued'
        )
          resolve()
      }),
    )
    await stopExecutor()
    // Handed back, not left for a lease to run out: it waits in the queue for an executor.
    await requeued
    expect(ledgerA.localRead().jobs.get(id)).toMatchObject({ state: 'queued', executor: null })
  })

  it("should send the local link's live output to the new coordinator after a step-down", async () => {
    const { ledgerA, ledgerB, runner, submit, liveLogsA } = await meshOfTwo()
    await transferLeadership(ledgerA, ledgerB.id)
    const id = jobId(18)
    await submit(id)
    const run = await runner.started(id)
    run.hooks.onOutput?.('stdout', 'before\n')
    await transferLeadership(ledgerB, ledgerA.id)
    const seen = new Recorder<string>()
    liveLogsA.follow(id, (event) => {
      if ('data' in event) seen.push(event.data)
    })
    run.hooks.onOutput?.('stdout', 'after\n')
    expect(await seen.next((data) => data === 'after\n', 10_000)).toBe('after\n')
  })

  it('should end a follower kept on a peer that stopped leading, and keep no output there', async () => {
    const { b, ledgerA, ledgerB, runner, submit, liveLogsB, finished } = await meshOfTwo()
    const relay = await startLogsRelay(b.port.components, ledgerB, liveLogsB, silent)
    try {
      await transferLeadership(ledgerA, ledgerB.id)
      const id = jobId(19)
      await submit(id)
      const run = await runner.started(id)
      run.hooks.onOutput?.('stdout', 'before\n')
      const events = new Recorder<string>()
      liveLogsB.follow(id, (event) => events.push('data' in event ? event.data : event.state))
      expect(await events.next()).toBe('before\n')
      await transferLeadership(ledgerB, ledgerA.id)
      expect(liveLogsB.size).toBe(0)
      const done = finished(ledgerB)
      run.finish(succeeded('done\n'))
      await done
      expect(await events.next((event) => event !== 'before\n')).toBe('succeeded')
    } finally {
      await relay.stop()
    }
  })
})
