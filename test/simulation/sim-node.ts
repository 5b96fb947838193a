// One simulated peer: a RawNode over a durable in-memory log, a write buffer that a crash
// loses (writes the core said need no sync), and the ledger it applies. Every Ready passes the
// checkers: what is persisted, committed, applied and who leads.
import {
  EMPTY_CONF_STATE,
  RawNode,
  applyConfChange,
  bootstrapState,
  decodeConfChange,
} from '../../ledger/raft/index.ts'
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  RaftConfig,
  ReadState,
  Ready,
} from '../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../ledger/storage/raft-memory-storage.ts'
import type { Checkers } from './checkers.ts'
import { chainHash, hashBytes } from './hash.ts'
import type { Proposal } from './proposal.ts'
import { Replica } from './replica.ts'

/** How often replicas compare their whole encoded ledger (see `#apply`). */
const STATE_CHECK_EVERY_ENTRIES = 16

export interface SimNodeHost {
  readonly checkers: Checkers
  send(message: Message): void
  applied(node: SimNode, entry: Entry, proposal: Proposal): void
  readDone(node: SimNode, read: ReadState): void
  /** Tells the sender of a snapshot whether this node persisted it (see `processReadies`). */
  snapshotReport(from: string, to: string, delivered: boolean): void
  /** The config of a (re)started node, minus id and storage. */
  config(id: string): Omit<RaftConfig, 'id' | 'storage'>
  readonly snapshotEveryEntries: number
  readonly retainEntries: number
  /** Whether to crash now, between persisting a Ready and sending its messages. */
  crashAfterPersist(node: SimNode, ready: Ready, leader: boolean): boolean
}

export class SimNode {
  readonly id: string
  readonly storage: MemoryRaftStorage
  readonly #host: SimNodeHost
  node: RawNode | undefined = undefined
  /** Hard state written without a sync: lost if the node crashes before the next sync. */
  pendingHardState: HardState | undefined = undefined
  replica = new Replica()
  /** Membership as of the applied index (what a snapshot records). */
  conf: ConfState
  appliedIndex = 0
  #hashBase = 0
  #hashes: number[] = [0]
  #commitChecked = 0
  /** Ticks of the simulated clock per tick of this node's own clock (0.5 to 2). */
  readonly tickRate: number
  #tickCredit = 0
  /** A paused process neither ticks nor handles messages until this tick. */
  #pausedUntil = -1
  /** Messages that arrived during a pause: the kernel holds them until the process runs. */
  #inbox: Message[] = []
  /** Senders of snapshots this node received and has not yet persisted. */
  #snapshotsFrom: string[] = []

  /** A new peer with an empty log; founding members pass the founding membership. */
  constructor(id: string, founding: ConfState | undefined, host: SimNodeHost, tickRate = 1) {
    this.id = id
    this.tickRate = tickRate
    this.storage = new MemoryRaftStorage()
    if (founding !== undefined) {
      this.storage.apply({ ...bootstrapState(founding), snapshot: undefined })
      // The bootstrap entries are the same on every founding member: hash them once.
      for (const entry of this.storage.entries(1, this.storage.lastIndex() + 1, Infinity)) {
        this.#hashes.push(
          chainHash(this.#hashes[entry.index - 1] ?? 0, entry.term, hashBytes(entry.data)),
        )
      }
    }
    this.conf = EMPTY_CONF_STATE
    this.#host = host
  }

  get alive(): boolean {
    return this.node !== undefined
  }

  /** Starts (or restarts) from durable storage alone. */
  start(): void {
    const snapshot = this.storage.snapshot()
    this.#restore(snapshot.data, snapshot.metadata.index)
    this.conf = snapshot.metadata.confState
    this.appliedIndex = snapshot.metadata.index
    this.#commitChecked = snapshot.metadata.index
    this.node = new RawNode({
      ...this.#host.config(this.id),
      id: this.id,
      storage: this.storage,
      applied: snapshot.metadata.index,
    })
  }

  crash(): void {
    this.node = undefined
    this.pendingHardState = undefined
    this.#pausedUntil = -1
    this.#inbox = []
    // The snapshot streams break with the process: their senders must send again.
    for (const from of this.#snapshotsFrom) this.#host.snapshotReport(from, this.id, false)
    this.#snapshotsFrom = []
  }

  get paused(): boolean {
    return this.#pausedUntil >= 0
  }

  /** Stops the process until tick `until`. */
  pause(until: number): void {
    if (this.alive) this.#pausedUntil = until
  }

  /** The process runs again and handles what arrived meanwhile, in order. */
  resume(): void {
    this.#pausedUntil = -1
    const held = this.#inbox
    this.#inbox = []
    for (const message of held) this.receive(message)
  }

  /** Advances this node's own clock to simulated tick `now`, at its own rate. */
  tick(now: number): void {
    if (this.paused && now >= this.#pausedUntil) this.resume()
    if (this.node === undefined || this.paused) return
    this.#tickCredit += this.tickRate
    for (; this.#tickCredit >= 1; this.#tickCredit--) this.node.tick()
  }

  /** A message the network delivered. */
  receive(message: Message): void {
    if (this.node === undefined) return
    if (this.paused) {
      this.#inbox.push(message)
      return
    }
    this.node.step(message)
    if (message.type === 'snapshot') this.#snapshotsFrom.push(message.from)
  }

  /** Chain hash of this node's durable log up to `index`, if the node can tell. */
  hashAt(index: number): number | undefined {
    return this.#hashes[index - this.#hashBase]
  }

  /** Handles Readies until there are none (bounded); returns whether any was handled. */
  processReadies(roundsMax = 4): boolean {
    if (this.paused) return false
    let any = false
    for (let round = 0; round < roundsMax && this.node?.hasReady() === true; round++) {
      this.#handle(this.node.ready())
      any = true
    }
    // A snapshot received is persisted by now (or was stale and dropped): only now may its
    // sender hear it arrived, or a crash in between would leave the leader believing it.
    if (this.node !== undefined && this.#snapshotsFrom.length > 0) {
      for (const from of this.#snapshotsFrom) this.#host.snapshotReport(from, this.id, true)
      this.#snapshotsFrom = []
    }
    return any
  }

  #handle(ready: Ready): void {
    const node = this.node as RawNode
    const status = node.status()
    const firstNew = ready.entries[0]
    if (status.role === 'leader' && firstNew !== undefined) {
      if (firstNew.index <= this.storage.lastIndex()) {
        this.#host.checkers.fail(`leader append-only: ${this.id} overwrote ${firstNew.index}`)
      }
    }
    this.#persist(ready)
    // What the node decided is committed is what leader completeness (5.4) is about, whether
    // or not the decision escapes before a crash.
    this.#checkCommit(ready.hardState?.commit ?? 0)
    if (this.#host.crashAfterPersist(this, ready, status.role === 'leader')) {
      // The process dies after its fsync, before its messages leave: a new leader's no-op,
      // or a follower's log, is on disk and nobody knows.
      this.crash()
      return
    }
    if (ready.softState?.role === 'leader') {
      this.#host.checkers.leaderElected(this.id, status.term)
      this.#host.checkers.leaderHolds(this.id, status.term, (index) => this.hashAt(index))
    }
    for (const message of ready.messages) this.#host.send(message)
    if (ready.snapshot !== undefined) {
      const { metadata, data } = ready.snapshot
      this.#restore(data, metadata.index)
      this.conf = metadata.confState
      this.appliedIndex = metadata.index
    }
    for (const entry of ready.committedEntries) this.#apply(entry)
    for (const read of ready.readStates) this.#host.readDone(this, read)
    node.advance()
    this.#maybeCompact()
  }

  #persist(ready: Ready): void {
    if (ready.snapshot !== undefined) {
      const { index, term } = ready.snapshot.metadata
      this.#hashBase = index
      const hash =
        this.#host.checkers.committedHashAt(index) ?? this.#host.checkers.knownHash(index, term)
      this.#hashes = hash === undefined ? [] : [hash]
    }
    for (const entry of ready.entries) {
      this.#hashes.length = Math.max(0, entry.index - this.#hashBase)
      const previous = this.hashAt(entry.index - 1)
      if (previous === undefined) continue
      const hash = chainHash(previous, entry.term, hashBytes(entry.data))
      this.#hashes.push(hash)
      this.#host.checkers.entryPersisted(this.id, entry.index, entry.term, hash)
    }
    if (ready.mustSync) {
      // A sync flushes every earlier unsynced write too.
      const hardState = ready.hardState ?? this.pendingHardState
      this.storage.apply({ hardState, entries: ready.entries, snapshot: ready.snapshot })
      this.pendingHardState = undefined
    } else if (ready.hardState !== undefined) {
      this.pendingHardState = ready.hardState
    }
  }

  #checkCommit(commit: number): void {
    for (let index = this.#commitChecked + 1; index <= commit; index++) {
      this.#host.checkers.committed(this.id, index, this.hashAt(index))
    }
    if (commit > this.#commitChecked) this.#commitChecked = commit
  }

  /** Restores the ledger from a snapshot, which must be whole and taken at `index`. */
  #restore(data: Uint8Array, index: number): void {
    this.replica = Replica.decode(data)
    const broken = this.replica.violation()
    if (broken !== undefined) this.#host.checkers.fail(`${this.id} restored: ${broken}`)
    if (this.replica.ledger.appliedIndex !== index) {
      this.#host.checkers.fail(
        `${this.id} restored a ledger at ${this.replica.ledger.appliedIndex}, not ${index}`,
      )
    }
  }

  #apply(entry: Entry): void {
    const checkers = this.#host.checkers
    if (entry.index !== this.appliedIndex + 1) {
      checkers.fail(`${this.id} applied ${entry.index} after ${this.appliedIndex}`)
    }
    if (entry.type === 'conf-change') {
      this.conf = applyConfChange(this.conf, decodeConfChange(entry.data))
      this.replica.skip(entry.index)
    } else if (entry.data.byteLength > 0) {
      const { proposal, violation } = this.replica.apply(entry.index, entry.data)
      if (violation !== undefined) checkers.fail(`${this.id}: ${violation}`)
      this.#host.applied(this, entry, proposal)
    } else {
      this.replica.skip(entry.index)
    }
    this.appliedIndex = entry.index
    // The entry applied is compared at every index; the whole encoded state, which costs as
    // much as the state is large, at every STATE_CHECK_EVERY_ENTRIES-th: a divergence persists,
    // so a sampled comparison still finds it, a few entries later at most.
    const state =
      entry.index % STATE_CHECK_EVERY_ENTRIES === 0 ? this.replica.encodedState() : undefined
    checkers.applied(this.id, entry.index, this.hashAt(entry.index), state)
  }

  /** Snapshots the ledger and compacts the log every so many applied entries. */
  #maybeCompact(): void {
    const snapshotIndex = this.storage.snapshot().metadata.index
    if (this.appliedIndex - snapshotIndex < this.#host.snapshotEveryEntries) return
    if (this.appliedIndex > this.storage.lastIndex()) return
    const snapshot = {
      metadata: {
        index: this.appliedIndex,
        term: this.storage.term(this.appliedIndex),
        confState: this.conf,
      },
      data: this.replica.encode(),
    }
    this.storage.compactSync(snapshot, this.#host.retainEntries)
  }
}
