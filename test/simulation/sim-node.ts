// One simulated peer: a RawNode over a SimDisk (memory, or the daemon's LevelRaftStorage with
// writes that land late and a crash that keeps only what was synced), the ledger it applies,
// its own clock rate and pauses. Every Ready passes the checkers: what is written, committed,
// applied and who leads. A Ready's messages leave and its entries apply only once its write
// has landed, as in the daemon's driver.
import {
  EMPTY_CONF_STATE,
  RawNode,
  applyConfChange,
  decodeConfChange,
} from '../../ledger/raft/index.ts'
import type {
  ConfState,
  Entry,
  Message,
  RaftConfig,
  ReadState,
  Ready,
  Status,
} from '../../ledger/raft/index.ts'
import { CrashedError } from '../fixtures/crash-level.ts'
import type { Checkers } from './checkers.ts'
import { LogHashes } from './log-hashes.ts'
import type { Proposal } from './proposal.ts'
import { Replica } from './replica.ts'
import type { ReplicaOptions } from './replica.ts'
import { LevelDisk } from './sim-disk.ts'
import type { SimDisk } from './sim-disk.ts'

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
  readonly replicaOptions: ReplicaOptions
  /** Whether to crash now, between persisting a Ready and sending its messages. */
  crashAfterPersist(node: SimNode, ready: Ready, leader: boolean): boolean
  /** Work that completes later (a write, a reopen): the host waits for it and rethrows its
   * failure in the simulation's own order. */
  track(work: Promise<void>): void
}

export class SimNode {
  readonly id: string
  readonly disk: SimDisk
  readonly #host: SimNodeHost
  node: RawNode | undefined = undefined
  replica: Replica
  /** Membership as of the applied index (what a snapshot records). */
  conf: ConfState = EMPTY_CONF_STATE
  appliedIndex = 0
  readonly #hashes: LogHashes
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
  /** Bumped by each crash, so work of the process that died is recognized and dropped. */
  #generation = 0
  #starting = false
  /** A Ready's write is in flight: the next Ready waits for it. */
  #writing = false
  #compacting = false
  /** A write that moved the log's start landed: compare the disk with the cache when idle. */
  checkDiskDue = false

  /** A peer over `disk`, whose founding members already hold the founding membership. */
  constructor(id: string, disk: SimDisk, host: SimNodeHost, tickRate = 1) {
    this.id = id
    this.disk = disk
    this.tickRate = tickRate
    this.#host = host
    this.#hashes = new LogHashes(id, host.checkers)
    this.replica = new Replica(host.replicaOptions)
  }

  get alive(): boolean {
    return this.node !== undefined
  }

  /** Starts (or restarts) from durable storage alone; on a LevelDisk once it has reopened. */
  start(): void {
    if (this.alive || this.#starting) return
    const reopened = this.disk.reopen()
    if (reopened === undefined) {
      this.#startNow()
      return
    }
    this.#starting = true
    const generation = this.#generation
    this.#host.track(
      reopened.then(
        () => {
          this.#starting = false
          if (generation === this.#generation) this.#startNow()
        },
        (error: unknown) => {
          this.#host.checkers.fail(`${this.id} cannot reopen its storage: ${String(error)}`)
        },
      ),
    )
  }

  #startNow(): void {
    const storage = this.disk.storage
    const snapshot = storage.snapshot()
    this.#restore(snapshot.data, snapshot.metadata.index)
    this.conf = snapshot.metadata.confState
    this.appliedIndex = snapshot.metadata.index
    this.#commitChecked = snapshot.metadata.index
    this.#hashes.reload(storage)
    this.node = new RawNode({
      ...this.#host.config(this.id),
      id: this.id,
      storage,
      applied: snapshot.metadata.index,
    })
  }

  crash(): void {
    this.#generation++
    this.node = undefined
    this.#writing = false
    this.#compacting = false
    this.disk.crash()
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

  /** Chain hash of this node's log up to `index`, if the node can tell. */
  hashAt(index: number): number | undefined {
    return this.#hashes.at(index)
  }

  /** Handles Readies until there are none or one's write is in flight (bounded). */
  processReadies(roundsMax = 4): void {
    if (this.paused) return
    for (let round = 0; round < roundsMax && !this.#writing; round++) {
      if (this.node?.hasReady() !== true) break
      this.#handle(this.node.ready())
    }
    this.#reportSnapshots()
  }

  /** A snapshot received is persisted by now (or was stale and dropped): only now may its
   * sender hear it arrived, or a crash in between would leave the leader believing it. */
  #reportSnapshots(): void {
    if (this.node === undefined || this.#writing || this.#snapshotsFrom.length === 0) return
    for (const from of this.#snapshotsFrom) this.#host.snapshotReport(from, this.id, true)
    this.#snapshotsFrom = []
  }

  #handle(ready: Ready): void {
    const status = (this.node as RawNode).status()
    const firstNew = ready.entries[0]
    if (status.role === 'leader' && firstNew !== undefined) {
      if (firstNew.index <= this.disk.storage.lastIndex()) {
        this.#host.checkers.fail(`leader append-only: ${this.id} overwrote ${firstNew.index}`)
      }
    }
    const written = this.disk.persist(ready)
    if (written === undefined) {
      this.#hashes.written(ready)
      this.#afterPersist(ready, status)
      return
    }
    this.#writing = true
    this.#host.track(
      this.#whenLanded(written, () => {
        // Recorded once on disk: a write lost in a crash was never seen by anyone, and the
        // term it carried may be used again.
        this.#hashes.written(ready)
        // Installing a snapshot rewrites the log's start: where storage races hide (bug 3).
        if (ready.snapshot !== undefined) this.checkDiskDue = true
        this.#afterPersist(ready, status)
      }),
    )
  }

  /** Compares the disk with what the core reads, once no write is in flight (see
   * LevelDisk.divergence); the simulator calls it between landings. */
  async checkDisk(): Promise<void> {
    const disk = this.disk
    if (!(disk instanceof LevelDisk) || disk.held() > 0 || this.node === undefined) return
    this.checkDiskDue = false
    const generation = this.#generation
    const divergence = await disk.divergence()
    if (divergence !== undefined && generation === this.#generation) {
      this.#host.checkers.fail(`storage: ${this.id} at ${this.appliedIndex}: ${divergence}`)
    }
  }

  /** Runs `then` once `work` lands, unless the process died meanwhile. */
  #whenLanded(work: Promise<void>, then: () => void): Promise<void> {
    const generation = this.#generation
    return work.then(
      () => {
        if (generation === this.#generation) then()
      },
      (error: unknown) => {
        // A write the crash cut off fails; that is the crash, not a fault of the storage.
        if (generation !== this.#generation && error instanceof CrashedError) return
        throw error
      },
    )
  }

  #afterPersist(ready: Ready, status: Status): void {
    this.#writing = false
    const node = this.node as RawNode
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
    this.#reportSnapshots()
  }

  #checkCommit(commit: number): void {
    for (let index = this.#commitChecked + 1; index <= commit; index++) {
      this.#host.checkers.committed(this.id, index, this.hashAt(index))
    }
    if (commit > this.#commitChecked) this.#commitChecked = commit
  }

  /** Restores the ledger from a snapshot, which must be whole and taken at `index`. */
  #restore(data: Uint8Array, index: number): void {
    this.replica = Replica.decode(data, this.#host.replicaOptions)
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
    const storage = this.disk.storage
    const snapshotIndex = storage.snapshot().metadata.index
    if (this.#compacting || this.appliedIndex - snapshotIndex < this.#host.snapshotEveryEntries) {
      return
    }
    if (this.appliedIndex > storage.lastIndex()) return
    // The snapshot records the membership the core reports as of the applied index (issue 8,
    // bug 5), which must be the one the applied entries built.
    const { appliedConf } = (this.node as RawNode).status()
    if (!sameConf(appliedConf, this.conf)) {
      this.#host.checkers.fail(
        `snapshot membership: ${this.id} at ${this.appliedIndex} reports ` +
          `${describeConf(appliedConf)}, its applied entries make ${describeConf(this.conf)}`,
      )
    }
    const snapshot = {
      metadata: {
        index: this.appliedIndex,
        term: storage.term(this.appliedIndex),
        confState: appliedConf,
      },
      data: this.replica.encode(),
    }
    const compacted = this.disk.compact(snapshot, this.#host.retainEntries)
    if (compacted === undefined) return
    this.#compacting = true
    this.#host.track(
      this.#whenLanded(compacted, () => {
        this.#compacting = false
        this.checkDiskDue = true
      }),
    )
  }
}

function sameConf(a: ConfState, b: ConfState): boolean {
  return describeConf(a) === describeConf(b)
}

function describeConf(conf: ConfState): string {
  const sorted = (ids: readonly string[]): string => [...ids].sort().join(',')
  return `voters {${sorted(conf.voters)}} learners {${sorted(conf.learners)}}`
}
