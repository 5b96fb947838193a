import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import { EXECUTOR_REASON_CHARS_MAX } from '../../../protocol/index.ts'
import type { CoordinatorAddress, DockerExecutor, JobRunner } from '../../../node/executor/index.ts'
import { NoopRunner } from '../../../node/executor/index.ts'
import {
  FakeRunner,
  jobId,
  spec,
  startCoordinator,
  startExecutor,
  succeeded,
  type ServerEvent,
  type TestCoordinator,
} from '../coordinator/fixtures/executor-mesh.ts'

type Joined = Extract<ServerEvent, { type: 'joined' }>

describe('ExecutorClient', () => {
  const stops: (() => void | Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()))
  })

  async function coordinator(): Promise<TestCoordinator> {
    const started = await startCoordinator()
    stops.push(() => started.node.stop())
    return started
  }

  /** An executor that asks `current()` where the coordinator is, as a mesh lookup would. */
  async function executor(
    current: () => CoordinatorAddress | undefined,
    init: Parameters<typeof startExecutor>[2] = {},
  ) {
    const runner = new FakeRunner()
    const started = await startExecutor(() => Promise.resolve(current()), runner, init)
    stops.push(() => started.node.stop())
    return { ...started, runner }
  }

  const joined = (at: TestCoordinator) =>
    at.events.next((event) => event.type === 'joined') as Promise<Joined>
  const finishedOn = (at: TestCoordinator, job: string) =>
    at.events.next(
      (event) =>
        event.type === 'report' && event.report.type === 'finished' && event.report.jobId === job,
    )

  it('should deliver reports of jobs across a switch when a new coordinator starts', async () => {
    const first = await coordinator()
    let current: CoordinatorAddress | undefined = first.address
    const { client, runner, connections, node } = await executor(() => current)
    const { link } = await joined(first)
    await link.assign({ jobId: jobId(1), fence: 5, spec })
    await link.assign({ jobId: jobId(2), fence: 6, spec })
    const early = await runner.started(jobId(1))
    const late = await runner.started(jobId(2))

    current = undefined
    await first.node.stop()
    await connections.next((event) => event.type === 'disconnected')
    // Finished while no coordinator is known: the report waits in the buffer.
    early.finish()
    await expect.poll(() => client.reportBuffer.size, { timeout: 2000 }).toBe(1)

    const second = await coordinator()
    expect(second.node.peerId.toString()).not.toBe(first.node.peerId.toString())
    current = second.address
    const rejoined = await joined(second)
    expect(rejoined.peer).toBe(node.peerId.toString())
    // The finished run is listed too: its report comes after the hello, and a job left out of
    // the hello is one the coordinator declares lost.
    expect(rejoined.running).toEqual([
      { jobId: jobId(2), fence: 6 },
      { jobId: jobId(1), fence: 5 },
    ])
    expect(await finishedOn(second, jobId(1))).toMatchObject({ report: { fence: 5 } })

    late.finish()
    expect(await finishedOn(second, jobId(2))).toMatchObject({ report: { fence: 6 } })
    expect(client.streamsOpened).toBe(2)
  })

  it('should keep the report buffer bounded when no coordinator takes reports', async () => {
    const first = await coordinator()
    let current: CoordinatorAddress | undefined = first.address
    const { client, runner, connections } = await executor(() => current, {
      reportBufferMax: 16,
    })
    const { link } = await joined(first)
    await link.assign({ jobId: jobId(3), fence: 9, spec })
    const run = await runner.started(jobId(3))
    current = undefined
    await first.node.stop()
    await connections.next((event) => event.type === 'disconnected')

    for (let line = 0; line < 1000; line += 1) run.hooks.onOutput?.('stdout', `line ${line}\n`)
    run.finish()
    await expect.poll(() => client.reportBuffer.dropped, { timeout: 2000 }).toBe(1000 + 1 - 16)
    expect(client.reportBuffer.size).toBe(16)

    // The finished report outlived the output dropped before it, and reaches the next one.
    const second = await coordinator()
    current = second.address
    await finishedOn(second, jobId(3))
    const outputs = second.events.seen.filter(
      (event) => event.type === 'report' && event.report.type === 'output',
    )
    expect(outputs).toHaveLength(15)
    // Numbered in the run, so a follower of the job's live output can tell what went missing.
    const numbers = outputs.map((event) => (event as { report: { seq?: number } }).report.seq)
    expect(numbers).toEqual(Array.from({ length: 15 }, (_, i) => 985 + i))
  })

  it('should back off and keep asking when no coordinator is known', async () => {
    let asked = 0
    const later = await coordinator()
    const { connections } = await executor(() => {
      asked += 1
      return asked < 4 ? undefined : later.address
    })
    await connections.next((event) => event.type === 'connected')
    expect(asked).toBe(4)
  })

  it('should cancel its jobs, close its stream and stop when stopped', async () => {
    const at = await coordinator()
    const { client, runner } = await executor(() => at.address)
    const { link } = await joined(at)
    await link.assign({ jobId: jobId(4), fence: 2, spec })
    await runner.started(jobId(4))
    await client.stop()
    expect(runner.cancelled.seen).toEqual([jobId(4)])
    expect(client.connected).toBe(false)
    await at.events.next((event) => event.type === 'left')
    expect(at.server.links()).toEqual([])
    // A stopped client refuses what a stale coordinator might still send.
    expect(await link.assign({ jobId: jobId(5), fence: 3, spec })).toMatchObject({
      acknowledged: false,
    })
  })

  it('should take the same assignment once when a coordinator sends it twice', async () => {
    const at = await coordinator()
    const { runner } = await executor(() => at.address)
    const { link } = await joined(at)
    const twice = await Promise.all([
      link.assign({ jobId: jobId(6), fence: 4, spec }),
      link.assign({ jobId: jobId(6), fence: 4, spec }),
    ])
    expect(twice.map((result) => result.acknowledged)).toEqual([false, true])
    await runner.started(jobId(6))
    expect(runner.runs.seen).toHaveLength(1)
  })

  it('should heartbeat at the coordinator pace when it is given none of its own', async () => {
    const at = await startCoordinator({ leaseMs: 200, heartbeatMs: 30 })
    stops.push(() => at.node.stop())
    const { client } = await executor(() => at.address, { heartbeatMs: undefined })
    const { link } = await joined(at)
    // Nothing may happen for three leases: this wait is what the test is about.
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(at.server.hasLease(link.peer)).toBe(true)
    expect(client.streamsOpened).toBe(1)
  })

  it('should send only the finished report when a run ends before its start went out', async () => {
    const at = await coordinator()
    const started = await startExecutor(() => Promise.resolve(at.address), new NoopRunner())
    stops.push(() => started.node.stop())
    const { link } = await joined(at)
    await link.assign({ jobId: jobId(9), fence: 2, spec: { ...spec, runtime: 'noop' } })
    await finishedOn(at, jobId(9))
    const reports = at.events.seen.flatMap((event) =>
      event.type === 'report' && event.report.jobId === jobId(9) ? [event.report.type] : [],
    )
    expect(reports).toEqual(['finished'])
  })

  it('should send the start, then the output, when a run goes on after it started', async () => {
    const at = await coordinator()
    const { runner } = await executor(() => at.address)
    const { link } = await joined(at)
    await link.assign({ jobId: jobId(10), fence: 2, spec })
    const run = await runner.started(jobId(10))
    run.hooks.onStarted?.()
    run.hooks.onOutput?.('stdout', 'hi\n')
    await at.events.next((event) => event.type === 'report' && event.report.type === 'output')
    run.finish()
    await finishedOn(at, jobId(10))
    const reports = at.events.seen.flatMap((event) =>
      event.type === 'report' && event.report.jobId === jobId(10) ? [event.report.type] : [],
    )
    expect(reports).toEqual(['started', 'output', 'finished'])
  })

  it('should keep its stream when the runner returns an outcome too big', async () => {
    const at = await coordinator()
    const { client, runner } = await executor(() => at.address)
    const { link } = await joined(at)
    await link.assign({ jobId: jobId(7), fence: 2, spec })
    await link.assign({ jobId: jobId(8), fence: 3, spec })
    const long = succeeded('')
    ;(await runner.started(jobId(7))).finish({ ...long, state: 'failed', error: 'e'.repeat(5000) })
    ;(await runner.started(jobId(8))).finish({ ...long, result: { ...long.result, wallMs: -1 } })
    const first = await finishedOn(at, jobId(7))
    const second = await finishedOn(at, jobId(8))
    expect(first).toMatchObject({ report: { outcome: { state: 'failed', cause: null } } })
    if (first.type !== 'report' || first.report.type !== 'finished') throw new Error('not a report')
    expect(first.report.outcome.error).toHaveLength(EXECUTOR_REASON_CHARS_MAX)
    expect(second).toMatchObject({ report: { outcome: { state: 'failed', cause: 'executor' } } })
    expect(client.streamsOpened).toBe(1)
    expect(at.server.stats.invalidFrames).toBe(0)
  })
})

describe('JobRunner', () => {
  it('should be what the Docker executor implements when the client is wired to it', () => {
    expectTypeOf<DockerExecutor>().toMatchTypeOf<JobRunner>()
  })
})
