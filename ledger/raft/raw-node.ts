// The API a driver uses (etcd's RawNode): feed it time, messages and proposals; take a Ready;
// do what it says in the documented order; call advance(). Nothing here blocks or does I/O.
import type { RaftConfig } from './config.ts'
import { validateConfig } from './config.ts'
import { ProposalDroppedError, assert } from './errors.ts'
import { propose, releaseUncommitted, reportSnapshot, transferLeadership } from './leader.ts'
import { encodeConfChange } from './membership.ts'
import { Raft } from './raft.ts'
import type {
  ConfChange,
  ConfState,
  HardState,
  Message,
  NodeId,
  Ready,
  Role,
  SoftState,
} from './types.ts'
import { NONE, message } from './types.ts'

/** A snapshot of a peer's state for monitoring and tests. */
export interface Status {
  readonly id: NodeId
  readonly term: number
  readonly vote: NodeId
  readonly leader: NodeId
  readonly role: Role
  readonly commit: number
  readonly applied: number
  readonly lastIndex: number
  /** The membership in force: the newest conf-change entry appended, committed or not. */
  readonly conf: ConfState
  /**
   * The membership as of `applied`: the newest conf-change entry at or below it, or the
   * snapshot's. This is the one a driver records in a snapshot it takes at `applied`; take it
   * after advance(), when `applied` covers the Ready's committed entries and snapshot.
   */
  readonly appliedConf: ConfState
  /** The index of the newest conf-change entry, or 0. While it is above `commit`, a leader
   * refuses another conf change (one at a time). */
  readonly lastConfIndex: number
  /** On a leader: the replication state of each member and of each peer whose removal is
   * still uncommitted (it is replicated to until then); empty elsewhere. */
  readonly progress: Readonly<Record<NodeId, ProgressStatus>>
}

export interface ProgressStatus {
  readonly match: number
  readonly next: number
  readonly state: 'probe' | 'replicate' | 'snapshot'
  readonly paused: boolean
  readonly inflight: number
}

export class RawNode {
  readonly #raft: Raft
  #prevSoftState: SoftState
  #prevHardState: HardState
  #outstanding: Ready | undefined = undefined
  /** The membership as of the applied index. Kept, not read from the log on demand: a
   * snapshot stepped in between ready() and advance() moves the log's start past it. */
  #appliedConf: ConfState
  /** What #appliedConf becomes when the outstanding Ready is advanced. */
  #appliedConfNext: ConfState | undefined = undefined

  /** Validates `config` (throws RaftConfigError) and loads the peer's state from storage. */
  constructor(config: RaftConfig) {
    this.#raft = new Raft(validateConfig(config))
    this.#prevSoftState = this.#raft.softState()
    this.#prevHardState = this.#raft.hardState()
    this.#appliedConf = this.#raft.confAt(this.#raft.log.applied)
  }

  /** Advances logical time by one tick: elections and heartbeats are counted in ticks. */
  tick(): void {
    this.#raft.tick()
  }

  /** Starts an election now (with a pre-vote first when configured). */
  campaign(): void {
    this.#raft.hup(false)
  }

  /** Handles a message from a peer. Messages from unknown peers and stale ones are dropped. */
  step(message: Message): void {
    assert(message.to === this.#raft.id, `message for ${message.to} stepped into ${this.#raft.id}`)
    this.#raft.step(message)
  }

  /** Proposes application data. Throws ProposalDroppedError when it cannot be appended. */
  propose(data: Uint8Array): void {
    this.proposeBatch([data])
  }

  /** Proposes several entries at once: one append, one fsync, one message per follower. */
  proposeBatch(data: readonly Uint8Array[]): void {
    this.#propose(data.map((bytes) => ({ type: 'normal' as const, data: bytes })))
  }

  /**
   * Proposes one membership change; it takes effect when appended to each peer's log. The
   * leader throws ProposalDroppedError while another change is uncommitted and until it has
   * committed an entry of its term (its no-op: at once for a lone voter, a round trip else).
   * A leader whose own removal is appended leads until it commits, then steps down; if it
   * steps down earlier it may still campaign, since the others may need it (thesis 4.2.2).
   */
  proposeConfChange(change: ConfChange): void {
    this.#propose([{ type: 'conf-change', data: encodeConfChange(change) }])
  }

  #propose(entries: { type: 'normal' | 'conf-change'; data: Uint8Array }[]): void {
    const r = this.#raft
    if (r.role === 'leader') {
      propose(r, entries)
      return
    }
    if (r.role !== 'follower' || r.lead === NONE) throw new ProposalDroppedError('no leader')
    if (r.config.disableProposalForwarding) {
      throw new ProposalDroppedError('not the leader and forwarding is disabled')
    }
    const stamped = entries.map((entry) => ({ ...entry, term: 0, index: 0 }))
    r.step(message('propose', r.id, r.id, { entries: stamped }))
  }

  /**
   * Asks for a linearizable read. When a quorum confirms leadership, a ReadState with this
   * `context` (which must be unique) appears in a Ready; serve the read once applied reaches
   * its index. A new leader holds reads (its own and forwarded ones, up to RAFT_PENDING_READS_MAX)
   * until its no-op commits, then answers them. Dropped silently when there is no leader, the
   * leader steps down first, or the queue is full: retry after a timeout.
   */
  readIndex(context: Uint8Array): void {
    assert(context.byteLength > 0, 'a read needs a non-empty context')
    this.#raft.step(message('read-index', this.#raft.id, this.#raft.id, { context }))
  }

  /** Asks the leader to hand leadership to `target` once its log is caught up. */
  transferLeadership(target: NodeId): void {
    const r = this.#raft
    if (r.role === 'leader') transferLeadership(r, target)
    else if (r.lead !== NONE) r.messages.push(message('transfer-leader', target, r.lead, {}))
  }

  /**
   * The transport's word on a snapshot message sent to `to`: delivered (once the follower
   * persisted it) or lost. The driver must report every snapshot it was given to send, also
   * one it dropped: until it does, the leader sends `to` nothing more.
   */
  reportSnapshot(to: NodeId, delivered: boolean): void {
    reportSnapshot(this.#raft, to, delivered)
  }

  hasReady(): boolean {
    if (this.#outstanding !== undefined) return false
    const r = this.#raft
    if (r.broadcastPending || r.messages.length > 0 || r.readStates.length > 0) return true
    if (r.log.unstable.entries.length > 0 || r.log.unstable.snapshot !== undefined) return true
    if (r.log.hasNextCommittedEntries()) return true
    const soft = r.softState()
    if (soft.leader !== this.#prevSoftState.leader || soft.role !== this.#prevSoftState.role) {
      return true
    }
    return !sameHardState(r.hardState(), this.#prevHardState)
  }

  /** What to persist, send and apply now. Call advance() before the next ready(). */
  ready(): Ready {
    assert(this.#outstanding === undefined, 'ready() called twice without advance()')
    const r = this.#raft
    r.flushBroadcast()
    const soft = r.softState()
    const hard = r.hardState()
    const softChanged =
      soft.leader !== this.#prevSoftState.leader || soft.role !== this.#prevSoftState.role
    const hardChanged = !sameHardState(hard, this.#prevHardState)
    const entries = [...r.log.unstable.entries]
    const snapshot = r.log.unstable.snapshot
    const knobs = r.config.testingKnobs
    const voteChanged =
      hard.term !== this.#prevHardState.term || hard.vote !== this.#prevHardState.vote
    const ready: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      snapshot,
      entries,
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        (voteChanged && knobs.voteBeforePersist !== true),
      messages: r.messages,
      committedEntries: r.log.nextCommittedEntries(r.config.committedBytesPerReadyMax),
      readStates: r.readStates,
    }
    const lastCommitted = ready.committedEntries[ready.committedEntries.length - 1]
    this.#appliedConfNext =
      lastCommitted !== undefined ? r.confAt(lastCommitted.index) : snapshot?.metadata.confState
    r.messages = []
    r.readStates = []
    this.#prevSoftState = soft
    if (hardChanged) this.#prevHardState = hard
    this.#outstanding = ready
    return ready
  }

  /** Records that the last Ready was persisted, sent and applied. */
  advance(): void {
    const ready = this.#outstanding
    assert(ready !== undefined, 'advance() without ready()')
    const log = this.#raft.log
    if (ready.snapshot !== undefined) {
      log.stableSnapshotTo(ready.snapshot.metadata.index)
      log.applied = Math.max(log.applied, ready.snapshot.metadata.index)
    }
    const lastEntry = ready.entries[ready.entries.length - 1]
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term)
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1]
    if (lastApplied !== undefined) {
      log.appliedTo(lastApplied.index)
      releaseUncommitted(this.#raft, ready.committedEntries)
    }
    if (this.#appliedConfNext !== undefined) this.#appliedConf = this.#appliedConfNext
    this.#outstanding = undefined
  }

  status(): Status {
    const r = this.#raft
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      leader: r.lead,
      role: r.role,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      conf: r.conf,
      appliedConf:
        r.config.testingKnobs.appliedConfIsAppended === true ? r.conf : this.#appliedConf,
      lastConfIndex: r.lastConfIndex(),
      progress: r.role === 'leader' ? progressStatus(r) : {},
    }
  }
}

function progressStatus(r: Raft): Record<NodeId, ProgressStatus> {
  const result: Record<NodeId, ProgressStatus> = {}
  for (const [id, p] of r.progress) {
    result[id] = {
      match: p.match,
      next: p.next,
      state: p.state,
      paused: p.isPaused(),
      inflight: p.inflights.count,
    }
  }
  return result
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}
