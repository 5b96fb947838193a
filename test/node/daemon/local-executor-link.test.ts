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

describe('LocalExecutorLink when its own peer becomes coordinator', () => {
  it("should take over the client's jobs: their reports and cancels, none lost", async () => {
    const { a, b, ledgerA, ledgerB, propose } = await twoPeers()
    const servedA = serveExecutors(a.port.components, ledgerA, coordinatorRole(ledgerA), logger)
    stops.push(servedA.stop)
    const schedulerB = coordinatorRole(ledgerB)
    const sweeps = new Recorder<readonly string[]>()
    const servedB = serveExecutors(b.port.components, ledgerB, schedulerB, logger, {
      leaseMs: LEASE_MS,
      onSwept: sweeps.push,
    })
    stops.push(servedB.stop)
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
    stops.push(dialCoordinator(b.port.components, ledgerB, runner, () => capacity, logger, local))

    const lost: string[] = []
    ledgerB.onApplied((entry) => {
      if (entry.command.type === 'job.lost') lost.push(entry.command.jobId)
    })
    const [finishing, cancelling] = [jobId(11), jobId(12)]
    for (const id of [finishing, cancelling]) {
      await propose({
        type: 'job.submit',
        jobId: id,
        submitter: SUBMITTER,
        idempotencyId: id,
        spec,
      })
    }
    const runs = [await runner.started(finishing), await runner.started(cancelling)]
    // The coordinator assigned them (a follower may apply it a little later).
    expect(runs.map((run) => ledgerA.localRead().jobs.get(run.jobId)?.executor)).toEqual([
      b.id,
      b.id,
    ])

    await transferLeadership(ledgerA, b.id)
    expect(ledgerB.status().role).toBe('leader')
    expect(link.runningJobs()).toEqual(new Set([finishing, cancelling]))

    const finished = new Promise<void>((resolve) =>
      ledgerB.onApplied((entry, result) => {
        if (entry.command.type === 'job.finish' && result.ok) resolve()
      }),
    )
    runs[0]!.finish(succeeded('done\n'))
    await finished
    expect(ledgerB.localRead().jobs.get(finishing)).toMatchObject({ state: 'succeeded' })

    await propose({ type: 'job.cancel', jobId: cancelling, by: SUBMITTER })
    expect(await runner.cancelled.next((id) => id === cancelling)).toBe(cancelling)
    expect(await sweeps.next(() => true, 4 * LEASE_MS)).toEqual([])
    expect(lost).toEqual([])
  })
})
