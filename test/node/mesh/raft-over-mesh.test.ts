// The real Raft core over the libp2p transport: three voters on loopback elect a leader and
// replicate, and a learner added after the leader compacted its log catches up by a snapshot
// sent in chunks and reported delivered once the learner persisted it. The driver here is the
// least one that keeps the core's order (persist, send, apply, advance); the daemon's one is
// in ledger/.
import { afterEach, describe, expect, it } from 'vitest'
import { RawNode, SeededRandom, bootstrapState } from '../../../ledger/raft/index.ts'
import type { Entry, Message, Snapshot } from '../../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/index.ts'
import { RAFT_SNAPSHOT_CHUNK_BYTES } from '../../../protocol/index.ts'
import { meshTogether, startRaftPeer } from './raft-peers.ts'
import type { RaftPeer } from './raft-peers.ts'

const TICK_MS = 10

interface Member {
  readonly peer: RaftPeer
  readonly storage: MemoryRaftStorage
  readonly node: RawNode
  readonly applied: Entry[]
  readonly snapshotsSent: { to: string; delivered: boolean }[]
}

const members: Member[] = []
let ticker: NodeJS.Timeout | undefined

afterEach(async () => {
  clearInterval(ticker)
  await Promise.all(members.splice(0).map((member) => member.peer.node.stop()))
})

/** Handles every Ready in the documented order: persist, then send, then apply, then advance. */
function drive(member: Member): void {
  while (member.node.hasReady()) {
    const ready = member.node.ready()
    member.storage.apply(ready)
    member.peer.transport.send(ready.messages)
    member.applied.push(...ready.committedEntries)
    member.node.advance()
  }
}

function join(peer: RaftPeer, storage: MemoryRaftStorage, seed: number): Member {
  const node = new RawNode({
    id: peer.id,
    storage,
    random: new SeededRandom(seed),
    electionTicks: 10,
    heartbeatTicks: 1,
  })
  const member: Member = { peer, storage, node, applied: [], snapshotsSent: [] }
  peer.transport.listen({
    onMessage: (message: Message) => {
      member.node.step(message)
      drive(member)
      return Promise.resolve()
    },
    onSnapshotStatus: (to, delivered) => {
      member.snapshotsSent.push({ to, delivered })
      member.node.reportSnapshot(to, delivered)
      drive(member)
    },
  })
  members.push(member)
  return member
}

const text = (entries: readonly Entry[]) =>
  entries
    .filter((entry) => entry.type === 'normal' && entry.data.byteLength > 0)
    .map((entry) => new TextDecoder().decode(entry.data))

describe('raft over the mesh', () => {
  it('should replicate and catch a new learner up by snapshot over libp2p', async () => {
    const peers = await Promise.all(Array.from({ length: 4 }, () => startRaftPeer()))
    await meshTogether(peers)
    const voters = peers.slice(0, 3).map((peer) => peer.id)
    const trio = peers.slice(0, 3).map((peer, at) => {
      const storage = new MemoryRaftStorage()
      storage.apply({ ...bootstrapState({ voters, learners: [] }), snapshot: undefined })
      return join(peer, storage, at + 1)
    })
    const learner = join(peers[3] as RaftPeer, new MemoryRaftStorage(), 4)
    ticker = setInterval(() => {
      for (const member of members) {
        member.node.tick()
        drive(member)
      }
    }, TICK_MS)

    const leaderOf = () => trio.find((member) => member.node.status().role === 'leader')
    await expect.poll(() => leaderOf() !== undefined, { timeout: 10_000 }).toBe(true)
    const leader = leaderOf() as Member
    const written = Array.from({ length: 300 }, (_, at) => `w${at}`)
    leader.node.proposeBatch(written.map((value) => new TextEncoder().encode(value)))
    drive(leader)
    for (const member of trio) {
      await expect.poll(() => text(member.applied), { timeout: 10_000 }).toEqual(written)
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
    await expect.poll(() => text(learner.applied), { timeout: 10_000 }).toEqual(['after'])
  })
})
