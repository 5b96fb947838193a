// One simulated peer: a RawNode over a SimDisk (memory, or the daemon's LevelRaftStorage with
// writes that land late and a crash that keeps only what was synced), the ledger it applies,
// its own clock rate and pauses. Every Ready passes the checkers: what is written, committed,
// applied and who leads. A Ready's messages leave and its entries apply only once its write
// has landed, as in the daemon's driver.
import { RawNode } from '../../ledger/raft/index.ts'
import type {
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
import { NodeLedger } from './node-ledger.ts'
import type { Replica, ReplicaOptions } from './replica.ts'
import { LevelDisk } from './sim-disk.ts'
import type { SimDisk } from './sim-disk.ts'

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
  readonly ledger: NodeLedger
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
    this.ledger = new NodeLedger(id, {
      checkers: host.checkers,
      replicaOptions: host.replicaOptions,
      applied: (entry, proposal) => host.applied(this, entry, proposal),
    })
  }

  get replica(): Replica {
    return this.ledger.replica
  }

  get appliedIndex(): number {
    return this.ledger.appliedIndex
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
    this.ledger.restore(snapshot)
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
    // The snapshot streams break with the process, also those a pause left unread: their
    // senders must send again, or they wait for them forever.
    const unread = this.#inbox.filter((held) => held.type === 'snapshot').map((held) => held.from)
    for (const from of [...this.#snapshotsFrom, ...unread]) {
      this.#host.snapshotReport(from, this.id, false)
    }
    this.#inbox = []
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
      this.#host.checkers.fail(`storage: ${this.id} at ${this.ledger.appliedIndex}: ${divergence}`)
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
    if (ready.snapshot !== undefined) this.ledger.restore(ready.snapshot)
    for (const entry of ready.committedEntries) {
      this.ledger.apply(entry, this.hashAt(entry.index))
    }
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

  /** Snapshots the ledger and compacts the log every so many applied entries. */
  #maybeCompact(): void {
    const storage = this.disk.storage
    const { appliedIndex } = this.ledger
    const snapshotIndex = storage.snapshot().metadata.index
    if (this.#compacting || appliedIndex - snapshotIndex < this.#host.snapshotEveryEntries) return
    if (appliedIndex > storage.lastIndex()) return
    const { appliedConf } = (this.node as RawNode).status()
    const snapshot = this.ledger.snapshot(storage.term(appliedIndex), appliedConf)
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
