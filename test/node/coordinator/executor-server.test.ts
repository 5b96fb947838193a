import { afterEach, describe, expect, it } from 'vitest'
import { EXECUTOR_PROTOCOL } from '../../../protocol/index.ts'
import { ExecutorServer } from '../../../node/coordinator/index.ts'
import {
  capturingLogger,
  FakeRunner,
  Recorder,
  recordServer,
  jobId,
  spec,
  startCoordinator,
  startExecutor,
  type ServerEvent,
  type TestCoordinator,
  type TestExecutor,
} from './fixtures/executor-mesh.ts'

describe('ExecutorServer', () => {
  const nodes: { node: { stop(): void | Promise<void> } }[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map(({ node }) => node.stop()))
  })

  async function mesh(
    coordinatorInit: Parameters<typeof startCoordinator>[0] = {},
    executorInit: Parameters<typeof startExecutor>[2] = {},
  ): Promise<{ coordinator: TestCoordinator; executor: TestExecutor; runner: FakeRunner }> {
    const coordinator = await startCoordinator(coordinatorInit)
    nodes.push(coordinator)
    const runner = new FakeRunner()
    const find = () => Promise.resolve(coordinator.address)
    const executor = await startExecutor(find, runner, executorInit)
    nodes.push(executor)
    return { coordinator, executor, runner }
  }

  const joined = (coordinator: TestCoordinator) =>
    coordinator.events.next((event) => event.type === 'joined') as Promise<
      Extract<ServerEvent, { type: 'joined' }>
    >
  const reported = (coordinator: TestCoordinator, type: string, job: string) =>
    coordinator.events.next(
      (event) =>
        event.type === 'report' && event.report.type === type && event.report.jobId === job,
    )

  it('should carry hello, assign, ack, reports and cancel when an executor connects', async () => {
    const { coordinator, executor, runner } = await mesh()
    const { link, running } = await joined(coordinator)
    expect(link.peer).toBe(executor.node.peerId.toString())
    expect(link.owner).toBe(link.peer)
    expect(running).toEqual([])
    expect(link.capacity()).toEqual({ cpus: 4, memoryMb: 4096, runtimes: ['bash', 'python'] })

    const ack = await link.assign({ jobId: jobId(1), fence: 7, spec })
    expect(ack).toEqual({ acknowledged: true })
    const run = await runner.started(jobId(1))
    expect(run.fence).toBe(7)
    run.hooks.onStarted?.()
    await reported(coordinator, 'started', jobId(1))
    run.hooks.onOutput?.('stdout', 'hello\n')
    const output = await reported(coordinator, 'output', jobId(1))
    expect(output).toMatchObject({ report: { fence: 7, stream: 'stdout', data: 'hello\n' } })
    run.finish()
    const finished = await reported(coordinator, 'finished', jobId(1))
    expect(finished).toMatchObject({ report: { fence: 7, outcome: { state: 'succeeded' } } })

    await link.assign({ jobId: jobId(2), fence: 8, spec })
    await runner.started(jobId(2))
    link.cancel(jobId(2))
    expect(await runner.cancelled.next((id) => id === jobId(2))).toBe(jobId(2))
    // The finished report was acknowledged before the second ack came back (one ordered
    // stream), so the executor holds no report any more.
    expect(executor.client.reportBuffer.size).toBe(0)
  })

  it('should push load on heartbeats when the executor runs jobs', async () => {
    const { coordinator, runner } = await mesh()
    const { link } = await joined(coordinator)
    await link.assign({ jobId: jobId(3), fence: 2, spec })
    await runner.started(jobId(3))
    await coordinator.events.next(
      (event) => event.type === 'capacityChanged' && link.load()?.runningJobs === 1,
    )
    expect(link.load()).toEqual({ runningJobs: 1, cpusInUse: 1, memoryMbInUse: 512 })
  })

  it('should keep one stream when many assignments go over it', async () => {
    const { coordinator, executor, runner } = await mesh()
    const { link } = await joined(coordinator)
    const acks = await Promise.all(
      Array.from({ length: 200 }, (_, at) =>
        link.assign({ jobId: jobId(100 + at), fence: at + 1, spec }),
      ),
    )
    expect(acks.every((ack) => ack.acknowledged)).toBe(true)
    for (let at = 0; at < 200; at += 1) (await runner.started(jobId(100 + at))).finish()
    await reported(coordinator, 'finished', jobId(299))
    const streams = coordinator.node
      .getConnections()
      .flatMap((connection) => connection.streams)
      .filter((stream) => stream.protocol === EXECUTOR_PROTOCOL)
    expect(streams).toHaveLength(1)
    expect(executor.client.streamsOpened).toBe(1)
  })

  it('should expire the lease and name its jobs when heartbeats stop', async () => {
    const { coordinator, executor, runner } = await mesh({ leaseMs: 300 }, { heartbeatMs: 60_000 })
    const { link } = await joined(coordinator)
    await link.assign({ jobId: jobId(4), fence: 11, spec })
    await runner.started(jobId(4))
    expect(coordinator.server.hasLease(link.peer)).toBe(true)
    const expired = await coordinator.events.next((event) => event.type === 'leaseExpired')
    expect(expired).toMatchObject({
      peer: executor.node.peerId.toString(),
      running: [{ jobId: jobId(4), fence: 11 }],
    })
    expect(coordinator.server.hasLease(link.peer)).toBe(false)
    expect(coordinator.events.seen.some((event) => event.type === 'left')).toBe(true)
  })

  it('should renew the lease when heartbeats keep coming', async () => {
    const { coordinator } = await mesh({ leaseMs: 300 }, { heartbeatMs: 30 })
    const { link } = await joined(coordinator)
    // What is tested is that nothing happens for three leases' worth of time, so time must
    // pass: this wait is the subject of the test, not a guess at when something is done.
    await new Promise((resolve) => setTimeout(resolve, 900))
    expect(coordinator.server.hasLease(link.peer)).toBe(true)
    expect(coordinator.events.seen.some((event) => event.type === 'leaseExpired')).toBe(false)
  })

  it('should hand a refused job back as executor failure when fences clash', async () => {
    const { coordinator, runner } = await mesh()
    const { link } = await joined(coordinator)
    await link.assign({ jobId: jobId(5), fence: 3, spec })
    await runner.started(jobId(5))
    const refused = await link.assign({ jobId: jobId(5), fence: 9, spec })
    expect(refused).toEqual({ acknowledged: false, reason: 'the job runs here under fence 3' })
    const report = await reported(coordinator, 'finished', jobId(5))
    expect(report).toMatchObject({
      report: { fence: 9, outcome: { state: 'failed', cause: 'executor' } },
    })
  })

  it('should open a grace of one lease when it starts', async () => {
    let now = 1_000
    const { server } = await startCoordinator({ leaseMs: 250, now: () => now }).then((c) => {
      nodes.push(c)
      return c
    })
    expect(server.graceUntil).toBe(1_250)
    now = 1_250
    await server.whenGraceOver()
  })

  it('should drop executors and take them back when leadership comes back', async () => {
    const coordinator = await startCoordinator()
    nodes.push(coordinator)
    const runner = new FakeRunner()
    const executor = await startExecutor(() => Promise.resolve(coordinator.address), runner)
    nodes.push(executor)
    await joined(coordinator)
    // The role's own server on the same node, started and stopped as leadership comes and
    // goes: the node itself is the registrar.
    await coordinator.server.stop()
    const again = new Recorder<ServerEvent>()
    const role = new ExecutorServer(
      { registrar: coordinator.node },
      { isAdmitted: () => true, logger: capturingLogger().logger, events: recordServer(again) },
    )
    await role.start()
    const rejoined = await again.next((event) => event.type === 'joined')
    expect(rejoined.peer).toBe(executor.node.peerId.toString())
    expect(executor.client.streamsOpened).toBe(2)
    await role.stop()
    expect(role.links()).toEqual([])
  })
})
