// The real Raft core over the libp2p transport: three voters on loopback elect a leader and
// replicate, and a learner added after the leader compacted its log catches up by a snapshot
// sent in chunks and reported delivered once the learner persisted it.
import { afterEach, describe, expect, it } from 'vitest'
import type { Snapshot } from '../../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/index.ts'
import { RAFT_SNAPSHOT_CHUNK_BYTES } from '../../../protocol/index.ts'
import { appliedText, drive, foundingMembers, member, startTicking } from './raft-members.ts'
import type { Member } from './raft-members.ts'
import { meshTogether, startRaftPeer } from './raft-peers.ts'
import type { RaftPeer } from './raft-peers.ts'

const peers: RaftPeer[] = []
let stopTicking = () => undefined as void

afterEach(async () => {
  stopTicking()
  await Promise.all(peers.splice(0).map((peer) => peer.node.stop()))
})

describe('raft over the mesh', () => {
  it('should replicate and catch a new learner up by snapshot over libp2p', async () => {
    peers.push(...(await Promise.all(Array.from({ length: 4 }, () => startRaftPeer()))))
    await meshTogether(peers)
    const trio = foundingMembers(peers.slice(0, 3))
    const learner = member(peers[3] as RaftPeer, new MemoryRaftStorage(), 4)
    stopTicking = startTicking([...trio, learner], 10)

    const leaderOf = () => trio.find((each) => each.node.status().role === 'leader')
    await expect.poll(() => leaderOf() !== undefined, { timeout: 10_000 }).toBe(true)
    const leader = leaderOf() as Member
    const written = Array.from({ length: 300 }, (_, at) => `w${at}`)
    leader.node.proposeBatch(written.map((value) => new TextEncoder().encode(value)))
    drive(leader)
    for (const each of trio) {
      await expect.poll(() => appliedText(each.applied), { timeout: 10_000 }).toEqual(written)
    }

    // The leader compacts everything it applied, so a new member can only start from a
    // snapshot; the state is padded so that it travels in several chunks.
    const status = leader.node.status()
    const data = new Uint8Array(3 * RAFT_SNAPSHOT_CHUNK_BYTES + 1).fill(42)
    const snapshot: Snapshot = {
      metadata: { index: status.applied, term: status.term, confState: status.conf },
      data,
    }
    leader.storage.compactSync(snapshot, 0)
    leader.node.proposeConfChange({ type: 'add-learner', node: learner.peer.id })
    drive(leader)
    await expect
      .poll(() => learner.storage.snapshot().metadata.index, { timeout: 10_000 })
      .toBe(status.applied)
    expect(Buffer.from(learner.storage.snapshot().data).equals(data)).toBe(true)
    await expect
      .poll(() => leader.snapshotsSent)
      .toEqual([{ to: learner.peer.id, delivered: true }])

    leader.node.propose(new TextEncoder().encode('after'))
    drive(leader)
    await expect.poll(() => appliedText(learner.applied), { timeout: 10_000 }).toEqual(['after'])
  })
})
