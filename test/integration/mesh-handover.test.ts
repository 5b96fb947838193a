// A planned stop of the coordinator (SIGTERM, as Ctrl+C) hands leadership over before the
// daemon exits, on real `gridx start` processes on loopback. The voters run with an election
// timeout of 30 s, so that no election could name a new coordinator sooner: one that the
// others name within that time was handed the leadership, with no election gap.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

const TICK_MS = 100
const ELECTION_TICKS = 300
/** The shortest time a follower waits before it campaigns: an election cannot beat it. */
const ELECTION_TIMEOUT_MS_MIN = TICK_MS * ELECTION_TICKS

interface MeshJson {
  readonly coordinator: string | null
  readonly term: number
  readonly members?: readonly { readonly peerId: string; readonly role: string }[]
}

describe('a planned stop of the coordinator', () => {
  let cluster: MeshCluster

  beforeAll(async () => {
    cluster = await MeshCluster.create({
      peers: 3,
      extraArgs: ['--raft-tick-ms', String(TICK_MS), '--election-ticks', String(ELECTION_TICKS)],
    })
    await cluster.startMesh(3)
  }, 180_000)

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should name a new coordinator before any election could when it is stopped', async () => {
    const voters = (seen: MeshJson) =>
      (seen.members ?? []).filter((member) => member.role === 'voter').length
    const before = await cluster.waitFor<MeshJson>(0, ['mesh'], (seen) => voters(seen) === 3)
    const old = cluster.indexOf(before.coordinator)
    expect(old).not.toBeNull()
    const witness = ((old as number) + 1) % 3
    const stopping = cluster.stop(old as number)
    const after = await cluster.waitFor<MeshJson>(
      witness,
      ['mesh'],
      (seen) => seen.coordinator !== null && seen.coordinator !== before.coordinator,
      // Generous for a handover (a round trip), and still short of any election timeout.
      ELECTION_TIMEOUT_MS_MIN * 0.8,
    )
    await stopping
    expect(after.term).toBe(before.term + 1)
    // The mesh commits at once under its new coordinator.
    const rotated = await cluster.cli(witness, ['token', '--rotate'])
    expect(rotated.code, rotated.stderr).toBe(0)
    await cluster.start(old as number)
  }, 180_000)
})
