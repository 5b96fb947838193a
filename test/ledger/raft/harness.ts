// An in-process cluster for tests: real RawNodes over MemoryRaftStorage, a message queue as
// the network, and switches to cut links. Readies are handled in the documented order.
import { RawNode, SeededRandom, bootstrapState } from '../../../ledger/raft/index.ts'
import type {
  Entry,
  HardState,
  Message,
  RaftConfig,
  ReadState,
  Ready,
} from '../../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/raft-memory-storage.ts'

export interface HarnessPeer {
  node: RawNode
  storage: MemoryRaftStorage
  /** The hard state as of the last synced write: what survives a crash. */
  syncedHardState: HardState
  readonly applied: Entry[]
  readonly readStates: ReadState[]
}

export type ConfigOverrides = Partial<Omit<RaftConfig, 'id' | 'storage' | 'random'>>

export class Harness {
  readonly peers = new Map<string, HarnessPeer>()
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[] = []
  /** Directed links that drop messages: `${from}->${to}`. */
  readonly cut = new Set<string>()
  readonly overrides: ConfigOverrides

  constructor(voters: readonly string[], overrides: ConfigOverrides = {}, learners: string[] = []) {
    this.overrides = overrides
    for (const id of [...voters, ...learners]) {
      const storage = new MemoryRaftStorage()
      storage.apply({ ...bootstrapState({ voters, learners }), snapshot: undefined })
      this.addPeer(id, storage)
    }
  }

  addPeer(id: string, storage: MemoryRaftStorage, overrides: ConfigOverrides = {}): HarnessPeer {
    const node = this.#createNode(id, storage, overrides)
    const peer = {
      node,
      storage,
      syncedHardState: storage.hardState(),
      applied: [],
      readStates: [],
    }
    this.peers.set(id, peer)
    return peer
  }

  #createNode(id: string, storage: MemoryRaftStorage, overrides: ConfigOverrides): RawNode {
    let seed = 0
    for (const char of id) seed = (seed * 31 + char.charCodeAt(0)) >>> 0
    return new RawNode({
      id,
      storage,
      random: new SeededRandom(seed),
      electionTicks: 10,
      heartbeatTicks: 1,
      ...this.overrides,
      ...overrides,
    })
  }

  peer(id: string): HarnessPeer {
    const peer = this.peers.get(id)
    if (peer === undefined) throw new Error(`no peer ${id}`)
    return peer
  }

  node(id: string): RawNode {
    return this.peer(id).node
  }

  /** Persists, sends and applies one Ready of `id`, if it has one. */
  processReady(id: string): boolean {
    const peer = this.peer(id)
    if (!peer.node.hasReady()) return false
    this.processReadyFrom(id, peer.node.ready())
    return true
  }

  /** Persists, sends and applies a Ready already taken from `id`, then advances. */
  processReadyFrom(id: string, ready: Ready): void {
    const peer = this.peer(id)
    peer.storage.apply(ready)
    // A synced write also makes every earlier write durable (one ordered log on disk).
    if (ready.mustSync) peer.syncedHardState = peer.storage.hardState()
    for (const message of ready.messages) {
      if (!this.cut.has(`${message.from}->${message.to}`)) this.queue.push(message)
    }
    peer.applied.push(...ready.committedEntries)
    peer.readStates.push(...ready.readStates)
    peer.node.advance()
  }

  /** Delivers every queued message once; returns how many were delivered. */
  deliverAll(): number {
    const batch = this.queue
    this.queue = []
    for (const message of batch) {
      const peer = this.peers.get(message.to)
      if (peer !== undefined) peer.node.step(message)
    }
    return batch.length
  }

  /** Runs Readies and deliveries until nothing moves. */
  stabilize(roundsMax = 1000): void {
    for (let round = 0; round < roundsMax; round++) {
      let moved = false
      for (const id of this.peers.keys()) moved = this.processReady(id) || moved
      moved = this.deliverAll() > 0 || moved
      if (!moved) return
    }
    throw new Error('the cluster did not stabilize')
  }

  /** Ticks every peer `count` times, stabilizing after each tick. */
  tickAll(count: number): void {
    for (let i = 0; i < count; i++) {
      for (const peer of this.peers.values()) peer.node.tick()
      this.stabilize()
    }
  }

  isolate(id: string): void {
    for (const other of this.peers.keys()) {
      if (other === id) continue
      this.cut.add(`${id}->${other}`)
      this.cut.add(`${other}->${id}`)
    }
  }

  heal(): void {
    this.cut.clear()
  }

  /** Loses the peer's memory; it restarts from its storage alone. */
  restart(id: string): void {
    const peer = this.peer(id)
    const applied = peer.storage.snapshot().metadata.index
    peer.node = this.#createNode(id, peer.storage, { applied })
    peer.applied.length = 0
    peer.readStates.length = 0
  }

  /**
   * Crashes the peer: writes that were not synced are lost (a Ready with `mustSync` false may
   * stay in the OS cache), then it restarts from what is left. Entries and snapshots are always
   * synced, so only a commit-only hard state can be lost.
   */
  crash(id: string): void {
    const peer = this.peer(id)
    const storage = peer.storage
    peer.storage = MemoryRaftStorage.fromParts({
      hardState: peer.syncedHardState,
      snapshot: storage.snapshot(),
      start: storage.start(),
      entries: storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Infinity),
    })
    this.restart(id)
  }

  leader(): string | undefined {
    for (const [id, peer] of this.peers) if (peer.node.status().role === 'leader') return id
    return undefined
  }

  /** Application data of every applied normal entry, as strings. */
  appliedData(id: string): string[] {
    const decoder = new TextDecoder()
    return this.peer(id)
      .applied.filter((entry) => entry.type === 'normal' && entry.data.byteLength > 0)
      .map((entry) => decoder.decode(entry.data))
  }
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}
