// The configuration of one peer, validated up front (etcd's Config.validate) so the core never
// runs with a setting that cannot work.
import {
  RAFT_APPEND_BYTES_MAX_DEFAULT,
  RAFT_COMMITTED_BYTES_PER_READY_MAX_DEFAULT,
  RAFT_INFLIGHT_MESSAGES_MAX_DEFAULT,
  RAFT_UNCOMMITTED_BYTES_MAX_DEFAULT,
} from '../../protocol/index.ts'
import { RaftConfigError } from './errors.ts'
import type { RandomSource } from './random.ts'
import type { RaftStorage } from './storage.ts'
import type { NodeId } from './types.ts'
import { NONE } from './types.ts'

/**
 * Known bugs, re-introduced on purpose so tests can show the simulator's checkers catch them.
 * Never set outside tests.
 */
export interface TestingKnobs {
  /** Commit an entry of a previous term by counting replicas (paper section 5.4.2, Figure 8). */
  readonly commitPreviousTermByCounting?: boolean
  /** Report term and vote changes as not needing a sync, so a vote can go out unpersisted. */
  readonly voteBeforePersist?: boolean
  /** On a conflicting append, keep the follower's own suffix instead of truncating it. */
  readonly skipConflictTruncation?: boolean
  /** Hand entries to the application as soon as they are in the log, before commitment. */
  readonly applyBeforeCommit?: boolean
  /** A new leader does not commit its no-op on its own append (a lone voter's no-op waits for
   * another proposal), and a lone voter serves ReadIndex at its commit index before it has
   * committed an entry of its term: a stale read after an unsynced or lost commit. */
  readonly readBeforeNoopCommit?: boolean
  /** Only a voter of the appended membership may campaign: a leader that appended its own
   * removal and stepped down before it committed never stands again (thesis 4.2.2). */
  readonly removedLeaderNeverCampaigns?: boolean
  /** `Status.appliedConf` reports the appended, possibly uncommitted membership, so a
   * snapshot may record a membership its index does not have. */
  readonly appliedConfIsAppended?: boolean
  /** Reads that reach a leader before it committed an entry of its term are dropped, not
   * queued until its no-op commits. */
  readonly dropEarlyReads?: boolean
}

export interface RaftConfig {
  readonly id: NodeId
  readonly storage: RaftStorage
  /** Seeded source for randomized election timeouts. */
  readonly random: RandomSource
  /** Ticks without a leader's word before a follower campaigns; randomized up to twice this. */
  readonly electionTicks: number
  /** Ticks between a leader's heartbeats. Must be less than electionTicks. */
  readonly heartbeatTicks: number
  /** Ticks between a leader's heartbeats to a learner; at least heartbeatTicks, which is the
   * default. A learner never votes and needs the commit index only to apply, and it gets every
   * append at once whatever this is, so a mesh of many learners may heartbeat them rarely. */
  readonly learnerHeartbeatTicks?: number
  /** The last index the application already applied (after a restart); 0 for none. */
  readonly applied?: number
  /** Entry bytes in one append message; a single larger entry is still sent alone. */
  readonly appendBytesMax?: number
  /** Appends in flight to one follower before the leader waits for acknowledgements. */
  readonly inflightMessagesMax?: number
  /** Entry bytes in flight to one follower; 0 means bounded by message count only. */
  readonly inflightBytesMax?: number
  /** Bytes of uncommitted entries a leader accepts before it drops proposals. */
  readonly uncommittedBytesMax?: number
  /** Bytes of committed entries handed to the application in one Ready. */
  readonly committedBytesPerReadyMax?: number
  /** Probe for a majority before a real election, so a partitioned peer cannot disrupt. */
  readonly preVote?: boolean
  /** A leader that has not heard from a quorum for an election timeout steps down. */
  readonly checkQuorum?: boolean
  /** Followers drop proposals instead of forwarding them to the leader. */
  readonly disableProposalForwarding?: boolean
  readonly testingKnobs?: TestingKnobs
}

/** A config with every default filled in. */
export type ValidRaftConfig = Required<Omit<RaftConfig, 'testingKnobs'>> & {
  readonly testingKnobs: TestingKnobs
}

/** Fills defaults and checks every rule; throws RaftConfigError naming the field. */
export function validateConfig(config: RaftConfig): ValidRaftConfig {
  const valid: ValidRaftConfig = {
    id: config.id,
    storage: config.storage,
    random: config.random,
    electionTicks: config.electionTicks,
    heartbeatTicks: config.heartbeatTicks,
    learnerHeartbeatTicks: config.learnerHeartbeatTicks ?? config.heartbeatTicks,
    applied: config.applied ?? 0,
    appendBytesMax: config.appendBytesMax ?? RAFT_APPEND_BYTES_MAX_DEFAULT,
    inflightMessagesMax: config.inflightMessagesMax ?? RAFT_INFLIGHT_MESSAGES_MAX_DEFAULT,
    inflightBytesMax: config.inflightBytesMax ?? 0,
    uncommittedBytesMax: config.uncommittedBytesMax ?? RAFT_UNCOMMITTED_BYTES_MAX_DEFAULT,
    committedBytesPerReadyMax:
      config.committedBytesPerReadyMax ?? RAFT_COMMITTED_BYTES_PER_READY_MAX_DEFAULT,
    preVote: config.preVote ?? true,
    checkQuorum: config.checkQuorum ?? true,
    disableProposalForwarding: config.disableProposalForwarding ?? false,
    testingKnobs: config.testingKnobs ?? {},
  }
  if (valid.id === NONE) throw new RaftConfigError('id must not be empty')
  positiveInteger('heartbeatTicks', valid.heartbeatTicks)
  positiveInteger('electionTicks', valid.electionTicks)
  if (valid.electionTicks <= valid.heartbeatTicks) {
    throw new RaftConfigError('electionTicks must be greater than heartbeatTicks')
  }
  positiveInteger('learnerHeartbeatTicks', valid.learnerHeartbeatTicks)
  if (valid.learnerHeartbeatTicks < valid.heartbeatTicks) {
    throw new RaftConfigError('learnerHeartbeatTicks must be at least heartbeatTicks')
  }
  positiveInteger('appendBytesMax', valid.appendBytesMax)
  positiveInteger('inflightMessagesMax', valid.inflightMessagesMax)
  positiveInteger('uncommittedBytesMax', valid.uncommittedBytesMax)
  positiveInteger('committedBytesPerReadyMax', valid.committedBytesPerReadyMax)
  if (!Number.isInteger(valid.applied) || valid.applied < 0) {
    throw new RaftConfigError('applied must be a non-negative integer')
  }
  if (!Number.isInteger(valid.inflightBytesMax) || valid.inflightBytesMax < 0) {
    throw new RaftConfigError('inflightBytesMax must be a non-negative integer')
  }
  if (valid.inflightBytesMax > 0 && valid.inflightBytesMax < valid.appendBytesMax) {
    throw new RaftConfigError('inflightBytesMax must be 0 or at least appendBytesMax')
  }
  return valid
}

function positiveInteger(field: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RaftConfigError(`${field} must be a positive integer, got ${value}`)
  }
}
