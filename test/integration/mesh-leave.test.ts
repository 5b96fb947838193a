// `gridx leave` on real `gridx start` processes on loopback, driven through the CLI: the
// coordinator hands over and leaves, the autopilot restores the voter target from a learner,
// the peer's daemon stops and its data dir refuses to rejoin; the last voter may not leave; an
// executor that leaves has its job requeued, its container removed and its streams refused.
import { readFile, rm } from 'node:fs/promises'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import Docker from 'dockerode'
import { createLibp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { executorFilter } from '../../node/executor/index.ts'
import { loadOrCreateIdentity } from '../../node/mesh/index.ts'
import { RAFT_PROTOCOL } from '../../protocol/index.ts'
import type { JobView, MeshInfo, MeshLeft } from '../../protocol/index.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

/** Bound on the autopilot's promotions: a stabilisation time each, on a loaded machine. */
const PROMOTION_TIMEOUT_MS = 90_000

const voters = (info: MeshInfo) =>
  (info.members ?? []).filter((member) => member.role === 'voter').map((member) => member.peerId)

describe('gridx leave of the coordinator', () => {
  let cluster: MeshCluster
  const peerId = (index: number) => cluster.peers[index]?.daemon?.peerId ?? ''

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 4 })
    await cluster.start(0, ['--voters', '3'])
    for (const index of [1, 2, 3]) await cluster.join(index, 0, 'voter')
    // Two of the three voter-token learners are promoted; the third stays a learner.
    await cluster.waitFor<MeshInfo>(0, ['mesh'], (info) => voters(info).length === 3, 120_000)
  }, 240_000)

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should hand over, leave for good and refuse to rejoin when the coordinator leaves', async () => {
    const before = await cluster.waitFor<MeshInfo>(0, ['mesh'], (info) => info.coordinator !== null)
    expect(before.coordinator).toBe(peerId(0))
    const leaving = peerId(0)
    const others = [1, 2, 3].map(peerId)

    const left = await cluster.cli(0, ['leave'])
    expect(left.code, left.stderr).toBe(0)
    expect(JSON.parse(left.stdout) as MeshLeft).toMatchObject({
      peerId: leaving,
      meshId: before.meshId,
      handedOver: true,
    })
    expect(await cluster.exited(0)).toBe(0)

    // Another voter coordinates, the leaver is no member, and a learner took its seat.
    const after = await cluster.waitFor<MeshInfo>(
      1,
      ['mesh'],
      (info) =>
        others.includes(info.coordinator ?? '') &&
        !(info.members ?? []).some((member) => member.peerId === leaving) &&
        voters(info).length === 3,
      PROMOTION_TIMEOUT_MS,
    )
    expect(voters(after).sort()).toEqual([...others].sort())
    // The mesh goes on committing.
    const rotated = await cluster.cli(1, ['token', '--rotate'])
    expect(rotated.code, rotated.stderr).toBe(0)

    await expect(cluster.start(0)).rejects.toThrow(/left mesh \S+ with `gridx leave`/)
    await expect(cluster.start(0)).rejects.toThrow(/--join HOST\[:PORT\] --token T/)
  }, 180_000)
})

describe('gridx leave of the only voter, and of an executor running a job', () => {
  let cluster: MeshCluster

  beforeAll(async () => {
    // Peer 0 is the only voter and runs no jobs; peer 1, a learner, runs them on Docker. Its
    // drain on a stop outlasts the wait for its exit: a peer that left must not drain.
    cluster = await MeshCluster.create({
      peers: 2,
      executors: (index) => index === 1,
      peerArgs: (index) => (index === 1 ? ['--drain-timeout', '120'] : []),
    })
    await cluster.startMesh(1)
  }, 120_000)

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should refuse the only voter when other peers depend on it', async () => {
    const refused = await cluster.cli(0, ['leave'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/only voter of a mesh of 2 peers/)
    // Nothing changed: the voter still runs and still counts the learner among its members.
    const learner = cluster.peers[1]?.daemon?.peerId ?? ''
    const info = await cluster.waitFor<MeshInfo>(0, ['mesh'], () => true)
    expect((info.members ?? []).map((member) => member.peerId)).toContain(learner)
  })

  it('should requeue its job, stop its container and be refused after when it leaves', async () => {
    const learner = cluster.peers[1]?.daemon?.peerId ?? ''
    const submitted = await cluster.cli(0, ['submit', '-c', 'sleep 120', '--runtime', 'bash'])
    expect(submitted.code, submitted.stderr).toBe(0)
    const { id } = (JSON.parse(submitted.stdout) as { job: JobView }).job
    await cluster.waitFor<JobView>(0, ['status', id], (job) => job.state === 'running')

    const left = await cluster.cli(1, ['leave'])
    expect(left.code, left.stderr).toBe(0)
    expect(JSON.parse(left.stdout) as MeshLeft).toMatchObject({
      handedOver: false,
      requeuedJobs: 1,
    })
    expect(await cluster.exited(1)).toBe(0)
    // Its job waits for another executor, charged nothing; its container is gone.
    const requeued = await cluster.waitFor<JobView>(0, ['status', id], () => true)
    expect(requeued).toMatchObject({ state: 'queued', attempts: 1 })
    expect(requeued.reason).toMatch(/its executor left the mesh/)
    const docker = new Docker()
    expect(await docker.listContainers({ all: true, filters: executorFilter(learner) })).toEqual([])
    await cluster.waitFor<MeshInfo>(
      0,
      ['mesh'],
      (now) => !(now.members ?? []).some((member) => member.peerId === learner),
    )
    await expectRefused(cluster, 1, 0)
  }, 120_000)
})

/** A bare libp2p node with the key of peer `leaver`, which left, opens a Raft stream to
 * `member`: the member refuses it and says so once in its log. */
async function expectRefused(cluster: MeshCluster, leaver: number, member: number) {
  const { privateKey, peerId } = await loadOrCreateIdentity(cluster.peers[leaver]?.dataDir ?? '')
  const node = await createLibp2p({
    privateKey,
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  try {
    const to = cluster.peers[member]
    const address = multiaddr(`/ip4/${to?.host}/tcp/${to?.ports.p2p}`)
    const stream = await node.dialProtocol(address, RAFT_PROTOCOL)
    await expect.poll(() => stream.status, { timeout: 10_000 }).not.toBe('open')
  } finally {
    await node.stop()
  }
  const lines = (await readFile(cluster.peers[member]?.daemonLogFile ?? '', 'utf8'))
    .split('\n')
    .filter((line) => line.includes('refused a raft stream') && line.includes(peerId))
  expect(lines).toHaveLength(1)
}

describe('gridx leave of one of two voters', () => {
  let cluster: MeshCluster

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 2 })
    await cluster.start(0, ['--voters', '3'])
    await cluster.join(1, 0, 'voter')
    await cluster.waitFor<MeshInfo>(0, ['mesh'], (info) => voters(info).length === 2, 120_000)
  }, 180_000)

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should leave the other voter a mesh that goes on committing', async () => {
    const leaver = cluster.peers[1]?.daemon?.peerId ?? ''
    const left = await cluster.cli(1, ['leave'])
    expect(left.code, left.stderr).toBe(0)
    expect(await cluster.exited(1)).toBe(0)
    // The leaver's acknowledgements count until its removal is in force: the removal commits.
    const after = await cluster.waitFor<MeshInfo>(
      0,
      ['mesh'],
      (info) => !(info.members ?? []).some((member) => member.peerId === leaver),
    )
    expect(voters(after)).toEqual([cluster.peers[0]?.daemon?.peerId])
    const rotated = await cluster.cli(0, ['token', '--rotate'])
    expect(rotated.code, rotated.stderr).toBe(0)
  }, 120_000)
})
