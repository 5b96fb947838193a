// Jobs this peer's executor client took from another coordinator, when this peer becomes the
// coordinator itself: two voters (RaftDrivers on LevelDB over an in-memory Raft transport,
// ticked in the background), each with a real libp2p node on 127.0.0.1 running what the
// daemon runs: its scheduler while it leads, serveExecutors, and on the executor peer its
// LocalExecutorLink and dialCoordinator.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { transferLeadership } from '../../../ledger/index.ts'
import type { RaftDriver } from '../../../ledger/index.ts'
import { DEFAULT_POLICY } from '../../../protocol/index.ts'
import { LiveLogs, Scheduler } from '../../../node/coordinator/index.ts'
import {
  ComponentsPort,
  dialCoordinator,
  serveExecutors,
} from '../../../node/daemon/daemon-executors.ts'
import { LocalExecutorLink } from '../../../node/daemon/local-executor-link.ts'
import { RaftMesh } from '../../fixtures/raft-mesh.ts'
import { capacity, FakeRunner, jobId, Recorder } from '../coordinator/fixtures/executor-mesh.ts'
import { spec, succeeded, SUBMITTER } from './fixtures/executor-failover.ts'

const LEASE_MS = 2000
const logger = pino({ level: 'silent' })
const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
})

async function libp2pPeer() {
  const port = new ComponentsPort()
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { gridxComponents: port.service },
  })
  stops.push(async () => {
    await node.stop()
  })
  return { node, port, id: node.peerId.toString() }
}

/** What the daemon runs on every peer for jobs: its scheduler while it leads, the server. */
function coordinatorRole(ledger: RaftDriver) {
  const scheduler = new Scheduler({ ledger, liveLogs: new LiveLogs(), clock: Date, logger })
  const unsubscribe = ledger.onLeadership((leading) => {
    if (leading) scheduler.start()
    else scheduler.stop()
  })
  if (ledger.status().role === 'leader') scheduler.start()
  stops.push(async () => {
    unsubscribe()
    scheduler.stop()
  })
  return scheduler
}

async function twoPeers() {
  const a = await libp2pPeer()
  const b = await libp2pPeer()
  const mesh = await RaftMesh.create([a.id, b.id])
  let ticking = true
  const ticker = (async () => {
    while (ticking) {
      await mesh.tick()
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  stops.push(async () => {
    ticking = false
    await ticker
    await mesh.close()
  })
  await mesh.until(() => mesh.leader() !== undefined)
  const ledgerA = mesh.peer(a.id).driver
  const ledgerB = mesh.peer(b.id).driver
  if (mesh.leader()?.id !== a.id) await transferLeadership(mesh.leader()!.driver, a.id)
  const propose = async (command: Parameters<RaftDriver['propose']>[0]) => {
    const result = await ledgerA.propose(command)
    if (!result.ok) throw new Error(`${command.type}: ${result.error.message}`)
  }
  await propose({
    type: 'mesh.genesis',
    meshId: 'mesh-local-link',
    policy: DEFAULT_POLICY,
    founder: a.id,
    owner: SUBMITTER,
    voterTarget: 3,
    secrets: { voter: '1'.repeat(64), executor: '2'.repeat(64) },
  })
  await propose({ type: 'peer.admit', peer: a.id, owner: SUBMITTER, roles: ['voter'] })
  await propose({ type: 'peer.admit', peer: b.id, owner: 'owner-bob', roles: ['executor'] })
  const addresses = a.node.getMultiaddrs().map(String)
  await propose({ type: 'peer.address', peer: a.id, addresses })
  await propose({ type: 'executor.register', peer: b.id, owner: 'owner-bob' })
  return { a, b, ledgerA, ledgerB, propose }
}

/** Peer A runs no jobs; peer B runs its executor as the daemon does, as a local link while it
 * leads and through dialCoordinator otherwise. Both serve executors while they lead. */
async function meshOfTwo() {
  const peers = await twoPeers()
  const { a, b, ledgerA, ledgerB } = peers
  const sweeps = new Recorder<{ peer: string; lost: readonly string[] }>()
  for (const [peer, ledger] of [
    [a, ledgerA],
    [b, ledgerB],
  ] as const) {
    const served = serveExecutors(peer.port.components, ledger, coordinatorRole(ledger), logger, {
      leaseMs: LEASE_MS,
      onSwept: (lost) => sweeps.push({ peer: peer.id, lost }),
    })
    stops.push(served.stop)
  }
  const schedulerB = coordinatorRole(ledgerB)
  const runner = new FakeRunner()
  const link = new LocalExecutorLink({
    peer: b.id,
    owner: 'owner-bob',
    runner,
    capacity: () => capacity,
    report: (report) => void schedulerB.report(report),
  })
  schedulerB.addExecutor(link, link.runningJobs())
  const local = { scheduler: schedulerB, link }
  const stopExecutor = dialCoordinator(
    b.port.components,
    ledgerB,
    runner,
    () => capacity,
    logger,
    local,
  )
  stops.push(stopExecutor)
  const lost: string[] = []
  for (const ledger of [ledgerA, ledgerB]) {
    ledger.onApplied((entry) => {
      if (entry.command.type === 'job.lost') lost.push(entry.command.jobId)
    })
  }
  const submit = async (id: string) => {
    const ids = { jobId: id, idempotencyId: id }
    await peers.propose({ type: 'job.submit', ...ids, submitter: SUBMITTER, spec })
  }
  const finished = (ledger: RaftDriver) =>
    new Promise<void>((resolve) =>
      ledger.onApplied((entry, result) => {
        if (entry.command.type === 'job.finish' && result.ok) resolve()
      }),
    )
  return { ...peers, sweeps, runner, link, lost, submit, finished, stopExecutor }
}

describe('LocalExecutorLink across a change of coordinator', () => {
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
})
