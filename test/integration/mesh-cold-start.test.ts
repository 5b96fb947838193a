// A mesh whose voters all went down comes back one machine at a time: a restarted voter starts
// and serves its API without a quorum (writes wait for one), and once a majority is back the
// mesh commits again, as after a power cut.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MeshInfo } from '../../protocol/index.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

describe('a mesh restarted one voter at a time', () => {
  let cluster: MeshCluster

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 3 })
    await cluster.startMesh(3)
    const voters = (info: MeshInfo) => info.members?.filter((m) => m.role === 'voter').length
    await cluster.waitFor<MeshInfo>(0, ['mesh'], (info) => voters(info) === 3, 120_000)
  }, 240_000)

  afterAll(async () => {
    await cluster.stopAll()
    if (process.env.KEEP !== '1') await rm(cluster.root, { recursive: true, force: true })
  })

  it('should start a voter alone, then commit once a majority is back', async () => {
    for (const index of [0, 1, 2]) await cluster.kill(index)
    // Alone: no quorum, yet `gridx start` comes up and its API answers; a linearizable read
    // says to retry rather than answer from a replica that may be behind.
    await cluster.start(0)
    const alone = await cluster.cli(0, ['mesh'])
    expect(alone.code, alone.stderr).toBe(0)
    const balance = await cluster.cli(0, ['balance'])
    expect(balance.code).not.toBe(0)
    expect(balance.stderr).toMatch(/retry/)
    await cluster.start(1)
    // A write: a new join token's hash is a committed entry.
    const rotated = await cluster.cli(0, ['token', '--rotate'])
    expect(rotated.code, rotated.stderr).toBe(0)
    await cluster.start(2)
    const info = await cluster.waitFor<MeshInfo>(2, ['mesh'], (mesh) => mesh.coordinator !== null)
    expect(info.coordinator).not.toBeNull()
  }, 180_000)
})
