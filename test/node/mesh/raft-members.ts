// Raft members over the libp2p transport for tests and figures: a RawNode over MemoryRaftStorage
// per peer, driven by the least driver that keeps the core's order (persist, send, apply,
// advance). The daemon's driver is in ledger/; this one exists to exercise the transport.
import { RawNode, SeededRandom, bootstrapState } from '../../../ledger/raft/index.ts'
import type { Entry, Message } from '../../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/index.ts'
import type { RaftPeer } from './raft-peers.ts'

export interface Member {
  readonly peer: RaftPeer
  readonly storage: MemoryRaftStorage
  readonly node: RawNode
  readonly applied: Entry[]
  readonly snapshotsSent: { to: string; delivered: boolean }[]
  /** Called after each Ready with the entries it applied. */
  onApplied: (entries: readonly Entry[]) => void
}

/** Handles every Ready in the documented order: persist, then send, then apply, then advance. */
export function drive(member: Member): void {
  while (member.node.hasReady()) {
    const ready = member.node.ready()
    member.storage.apply(ready)
    member.peer.transport.send(ready.messages)
    member.applied.push(...ready.committedEntries)
    member.node.advance()
    if (ready.committedEntries.length > 0) member.onApplied(ready.committedEntries)
  }
}

/** Makes `peer` a member with `storage`, stepping what its transport receives. */
export function member(peer: RaftPeer, storage: MemoryRaftStorage, seed: number): Member {
  const node = new RawNode({
    id: peer.id,
    storage,
    random: new SeededRandom(seed),
    electionTicks: 10,
    heartbeatTicks: 1,
  })
  const made: Member = {
    peer,
    storage,
    node,
    applied: [],
    snapshotsSent: [],
    onApplied: () => undefined,
  }
  peer.transport.listen({
    onMessage: (message: Message) => {
      made.node.step(message)
      drive(made)
      return Promise.resolve()
    },
    onSnapshotStatus: (to, delivered) => {
      made.snapshotsSent.push({ to, delivered })
      made.node.reportSnapshot(to, delivered)
      drive(made)
    },
  })
  return made
}

/** Founding voters: every peer's storage holds the same bootstrap membership. */
export function foundingMembers(peers: readonly RaftPeer[]): Member[] {
  const voters = peers.map((peer) => peer.id)
  return peers.map((peer, at) => {
    const storage = new MemoryRaftStorage()
    storage.apply({ ...bootstrapState({ voters, learners: [] }), snapshot: undefined })
    return member(peer, storage, at + 1)
  })
}

/** Ticks every member every `tickMs`, the way a driver's ticker does; returns a stop. */
export function startTicking(members: readonly Member[], tickMs: number): () => void {
  const timer = setInterval(() => {
    for (const each of members) {
      each.node.tick()
      drive(each)
    }
  }, tickMs)
  return () => clearInterval(timer)
}

export function appliedText(entries: readonly Entry[]): string[] {
  return entries
    .filter((entry) => entry.type === 'normal' && entry.data.byteLength > 0)
    .map((entry) => new TextDecoder().decode(entry.data))
}
