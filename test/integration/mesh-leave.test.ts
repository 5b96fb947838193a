// `gridx leave` on real `gridx start` processes on loopback, driven through the CLI: the
// coordinator hands over and leaves, the autopilot restores the voter target from a learner,
// the peer's daemon stops and its data dir refuses to rejoin; the last voter may not leave.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'
import type { MeshInfo, MeshLeft } from '../../protocol/index.ts'

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

describe('gridx leave of the only voter', () => {
  let cluster: MeshCluster

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 2 })
    await cluster.startMesh(1)
  }, 120_000)

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should refuse the only voter and let a learner leave when others depend on it', async () => {
    const refused = await cluster.cli(0, ['leave'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/only voter of a mesh of 2 peers/)
    // Nothing changed: the voter still runs and still counts the learner among its peers.
    const learner = cluster.peers[1]?.daemon?.peerId ?? ''
    const info = await cluster.waitFor<MeshInfo>(0, ['mesh'], () => true)
    expect((info.members ?? []).map((member) => member.peerId)).toContain(learner)

    const left = await cluster.cli(1, ['leave'])
    expect(left.code, left.stderr).toBe(0)
    expect(JSON.parse(left.stdout) as MeshLeft).toMatchObject({ handedOver: false })
    expect(await cluster.exited(1)).toBe(0)
    await cluster.waitFor<MeshInfo>(
      0,
      ['mesh'],
      (now) => !(now.members ?? []).some((member) => member.peerId === learner),
    )
  }, 120_000)
})
