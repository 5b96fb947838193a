// The consensus state machine of one peer. Role-specific handling lives in election.ts,
// leader.ts and follower.ts; this file holds the state, the role transitions, time, the term
// rules every message passes through, and who is replicated to (conf-history.ts holds the
// membership as read from the log).
import { RAFT_PENDING_READS_MAX } from '../../protocol/index.ts'
import type { ValidRaftConfig } from './config.ts'
import { assert } from './errors.ts'
import { stepFollower } from './follower.ts'
import { campaign, handleVoteRequest, stepCandidate } from './election.ts'
import { appendEntries, bcastAppend, maybeCommit, stepLeader } from './leader.ts'
import { tickElection, tickHeartbeat } from './tick.ts'
import { ConfHistory } from './conf-history.ts'
import { Progress } from './progress.ts'
import { RaftLog } from './raft-log.ts'
import { ReadOnly } from './read-only.ts'
import type { ConfState, HardState, Message, NodeId, ReadState, Role, SoftState } from './types.ts'
import { EMPTY_BYTES, NONE, message } from './types.ts'

export class Raft {
  readonly id: NodeId
  readonly config: ValidRaftConfig
  readonly log: RaftLog
  term = 0
  vote: NodeId = NONE
  lead: NodeId = NONE
  role: Role = 'follower'
  /** The membership in force: the latest conf-change entry in the log, or the base. */
  conf: ConfState
  readonly #confHistory: ConfHistory
  readonly progress = new Map<NodeId, Progress>()
  readonly votes = new Map<NodeId, boolean>()
  messages: Message[] = []
  readStates: ReadState[] = []
  readonly readOnly = new ReadOnly(RAFT_PENDING_READS_MAX)
  electionElapsed = 0
  heartbeatElapsed = 0
  learnerHeartbeatElapsed = 0
  randomizedElectionTimeout = 0
  leadTransferee: NodeId = NONE
  /** Bytes appended by this leader and not yet applied: proposals stop past the bound. */
  uncommittedBytes = 0
  /** Set when a leader appended entries that it has not yet broadcast (batching). */
  broadcastPending = false

  constructor(config: ValidRaftConfig) {
    this.id = config.id
    this.config = config
    this.log = new RaftLog(config.storage, config.testingKnobs)
    const { hardState, confState } = config.storage.initialState()
    this.#confHistory = new ConfHistory(confState)
    this.conf = confState
    this.onLogChanged(this.log.firstIndex())
    this.term = hardState.term
    this.vote = hardState.vote
    // An unsynced commit index may be lost in a crash, but whatever was applied (and so
    // snapshotted or compacted) was committed: the commit index is at least that.
    const commit = Math.max(hardState.commit, this.log.committed, config.applied)
    assert(
      commit <= this.log.lastIndex(),
      `commit ${commit} beyond the stored log's last index ${this.log.lastIndex()}`,
    )
    this.log.committed = commit
    this.log.appliedTo(config.applied)
    this.becomeFollower(this.term, NONE)
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed }
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role }
  }

  /**
   * A member that may campaign: a voter of the appended membership, or of the committed one
   * while a change removing it is uncommitted (thesis 4.2.2). A leader that appended its own
   * removal and stepped down may be the only peer the others can elect; as leader again it
   * commits its removal and steps down.
   */
  promotable(): boolean {
    if (this.conf.voters.includes(this.id)) return true
    if (this.config.testingKnobs.removedLeaderNeverCampaigns === true) return false
    return this.confAt(this.log.committed).voters.includes(this.id)
  }

  send(fields: Partial<Message> & Pick<Message, 'type' | 'to'>): void {
    // Forwarded proposals and reads carry no term: they are local requests, not Raft RPCs.
    const local = fields.type === 'propose' || fields.type === 'read-index'
    this.messages.push(
      message(fields.type, this.id, fields.to, { term: local ? 0 : this.term, ...fields }),
    )
  }

  // ---- role transitions -------------------------------------------------------------------

  #reset(term: number): void {
    if (term !== this.term) {
      this.term = term
      this.vote = NONE
    }
    this.lead = NONE
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.learnerHeartbeatElapsed = 0
    this.randomizedElectionTimeout =
      this.config.electionTicks + this.config.random.nextInt(this.config.electionTicks)
    this.leadTransferee = NONE
    this.votes.clear()
    this.readOnly.reset()
    this.uncommittedBytes = 0
    this.broadcastPending = false
    this.progress.clear()
    this.syncProgress()
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.#reset(term)
    this.lead = lead
    this.role = 'follower'
  }

  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate')
    // A pre-candidate keeps its term and vote: a failed pre-vote must leave no trace.
    this.votes.clear()
    this.lead = NONE
    this.role = 'pre-candidate'
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate')
    this.#reset(this.term + 1)
    this.vote = this.id
    this.role = 'candidate'
  }

  becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader')
    this.#reset(this.term)
    this.lead = this.id
    this.role = 'leader'
    const self = this.progress.get(this.id)
    if (self !== undefined) self.becomeReplicate()
    // The no-op commits everything before it (5.4.2) and lets reads start (6.4).
    appendEntries(this, [{ type: 'normal', data: EMPTY_BYTES }])
    // A lone voter is its own quorum: its no-op commits now, or it would wait for another
    // proposal, refusing conf changes and reads until then.
    if (this.config.testingKnobs.readBeforeNoopCommit !== true) maybeCommit(this)
  }

  // ---- membership -------------------------------------------------------------------------

  /** Re-reads conf-change entries from `from` on, after the log changed there. */
  onLogChanged(from: number): void {
    this.#setConf(this.#confHistory.rescan(this.log, from))
  }

  onSnapshotRestored(conf: ConfState): void {
    this.#confHistory.restore(conf)
    this.#setConf(conf)
  }

  /** The membership as of `index`: the newest conf-change entry at or below it, or the base. */
  confAt(index: number): ConfState {
    return this.#confHistory.at(index)
  }

  /** The index of the newest conf-change entry, or 0. */
  lastConfIndex(): number {
    return this.#confHistory.lastIndex()
  }

  #setConf(conf: ConfState): void {
    this.conf = conf
    this.syncProgress()
    if (this.leadTransferee !== NONE && !conf.voters.includes(this.leadTransferee)) {
      this.leadTransferee = NONE
    }
  }

  /**
   * The peers a leader replicates to: the members, and those whose removal is still
   * uncommitted, so that they receive their removal and learn that it committed (etcd keeps
   * them until the removal applies). A peer being removed counts in no quorum.
   */
  replicatedTo(): Set<NodeId> {
    const committed = this.confAt(this.log.committed)
    return new Set([
      ...this.conf.voters,
      ...this.conf.learners,
      ...committed.voters,
      ...committed.learners,
    ])
  }

  /** Gives every peer replicated to a Progress and drops the others'. */
  syncProgress(): void {
    const members = this.replicatedTo()
    for (const id of this.progress.keys()) if (!members.has(id)) this.progress.delete(id)
    const { inflightMessagesMax, inflightBytesMax } = this.config
    for (const id of members) {
      // A peer being removed is no voter: no transfer of leadership to it.
      const isLearner = !this.conf.voters.includes(id)
      const existing = this.progress.get(id)
      if (existing !== undefined) {
        existing.isLearner = isLearner
        continue
      }
      const progress = new Progress(
        this.log.lastIndex() + 1,
        isLearner,
        inflightMessagesMax,
        inflightBytesMax,
      )
      if (id === this.id) progress.match = this.log.lastIndex()
      this.progress.set(id, progress)
    }
  }

  // ---- time -------------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') tickHeartbeat(this)
    else tickElection(this)
  }

  /** Starts an election (with a pre-vote first when configured). */
  hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return
    if (transfer) campaign(this, 'transfer')
    else campaign(this, this.config.preVote ? 'pre-election' : 'election')
  }

  // ---- messages ---------------------------------------------------------------------------

  step(m: Message): void {
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'pre-vote') {
        const force = m.context.byteLength > 0
        const inLease =
          this.config.checkQuorum &&
          this.lead !== NONE &&
          this.electionElapsed < this.config.electionTicks
        // A peer that heard from a leader recently ignores elections (thesis 4.2.3).
        if (!force && inLease) return
      }
      if (m.type === 'pre-vote' || (m.type === 'pre-vote-response' && !m.reject)) {
        // A pre-vote is for a future term: it never moves our term.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from)
      } else if (m.type === 'vote' && this.role === 'follower') {
        // Figure 2: only the leader's word or a granted vote restarts a follower's election
        // timer (handleVoteRequest grants); a refused candidate of a higher term must not, or
        // a stale peer with a faster clock holds the up-to-date ones back for ever.
        const elapsed = this.electionElapsed
        this.becomeFollower(m.term, NONE)
        this.electionElapsed = elapsed
      } else {
        this.becomeFollower(m.term, NONE)
      }
    } else if (m.term < this.term && m.term !== 0) {
      if (isLeaderMessage(m)) {
        // Tell a stale leader about the newer term (paper Figure 2), or it would never step
        // down when no peer of the newer term writes to it (a learner, or a voter outside
        // the others' membership, never does).
        this.send({ type: 'append-response', to: m.from })
      } else if (m.type === 'pre-vote') {
        this.send({ type: 'pre-vote-response', to: m.from, reject: true })
      } else if (m.type === 'vote') {
        // Reject with our term (paper Figure 2). A candidate outside our membership hears our
        // term from nobody else: silence would leave it behind in term, never electable.
        this.send({ type: 'vote-response', to: m.from, reject: true })
      }
      return
    }
    if (m.type === 'vote' || m.type === 'pre-vote') {
      handleVoteRequest(this, m)
      return
    }
    if (this.role === 'leader') stepLeader(this, m)
    else if (this.role === 'follower') stepFollower(this, m)
    else stepCandidate(this, m)
  }

  /** Sends what a leader appended since the last Ready, one append per follower. */
  flushBroadcast(): void {
    if (this.role === 'leader' && this.broadcastPending) bcastAppend(this)
    this.broadcastPending = false
  }
}

function isLeaderMessage(m: Message): boolean {
  return m.type === 'append' || m.type === 'heartbeat'
}
