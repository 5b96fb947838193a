// The data that crosses the consensus core's boundary: log entries, messages between peers,
// the state a peer must persist, and the Ready batch handed to the driver.

/** A peer's identity inside a Raft group. The empty string means "nobody". */
export type NodeId = string

/** The identity that is nobody: no leader known, no vote cast. */
export const NONE: NodeId = ''

/** A normal entry carries application data; a conf-change entry carries one ConfChange. */
export type EntryType = 'normal' | 'conf-change'

export interface Entry {
  readonly term: number
  readonly index: number
  readonly type: EntryType
  /** Application bytes. An empty array on a normal entry is the leader's no-op. */
  readonly data: Uint8Array
}

/** The state that must be on disk before any message that depends on it leaves the peer. */
export interface HardState {
  readonly term: number
  readonly vote: NodeId
  readonly commit: number
}

/** Members of the group. Voters elect and count for commitment; learners only replicate. */
export interface ConfState {
  readonly voters: readonly NodeId[]
  readonly learners: readonly NodeId[]
}

/** One membership change. Voters change one at a time (Raft thesis section 4.1). */
export interface ConfChange {
  readonly type: 'add-voter' | 'add-learner' | 'remove-node'
  readonly node: NodeId
}

export interface SnapshotMetadata {
  readonly index: number
  readonly term: number
  /** Membership as of `index`: the latest conf-change entry at or below it. */
  readonly confState: ConfState
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata
  /** The application's state machine as of `metadata.index`, opaque to the core. */
  readonly data: Uint8Array
}

export type MessageType =
  | 'append'
  | 'append-response'
  | 'vote'
  | 'vote-response'
  | 'pre-vote'
  | 'pre-vote-response'
  | 'heartbeat'
  | 'heartbeat-response'
  | 'snapshot'
  | 'propose'
  | 'read-index'
  | 'read-index-response'
  | 'timeout-now'
  | 'transfer-leader'

/**
 * One message between peers. Fields not used by a type are zero, empty or false, so a message
 * always has the same shape (easy to encode, compare and print).
 */
export interface Message {
  readonly type: MessageType
  readonly from: NodeId
  readonly to: NodeId
  readonly term: number
  /** append: term of the entry at `index`. vote: term of the candidate's last entry. */
  readonly logTerm: number
  /** append: index just before `entries`. response: the index accepted or rejected. */
  readonly index: number
  readonly entries: readonly Entry[]
  readonly commit: number
  readonly reject: boolean
  /** append-response reject: the follower's guess of the last index that may match. */
  readonly rejectHint: number
  readonly snapshot: Snapshot | undefined
  /** read-index and heartbeat: the read request's context. vote: 'transfer' forces a vote. */
  readonly context: Uint8Array
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader'

/** Volatile state, reported for information only; it is never persisted. */
export interface SoftState {
  readonly leader: NodeId
  readonly role: Role
}

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number
  readonly context: Uint8Array
}

/**
 * Everything the driver must do, in this order, before calling `advance()`:
 * 1. persist `snapshot` (if any), then `entries` and `hardState` in one atomic write, synced to
 *    disk when `mustSync` is true;
 * 2. send `messages` (only after step 1: they may promise what step 1 wrote);
 * 3. restore the state machine from `snapshot` (if any), then apply `committedEntries` in order;
 * 4. serve `readStates` once the applied index reaches each one's index.
 */
export interface Ready {
  /** Role and leader, when they changed: for logs and routing; never persisted. */
  readonly softState: SoftState | undefined
  /** Step 1: term, vote and commit to persist with `entries` in the same write. Undefined when
   * unchanged. A vote must be on disk before any vote response in `messages` leaves. */
  readonly hardState: HardState | undefined
  /** Step 1, first: a snapshot received from the leader, to persist (replacing every entry it
   * covers) before `entries`; step 3, first: restore the state machine from it. */
  readonly snapshot: Snapshot | undefined
  /** Step 1: entries to append to stable storage; an entry at an index already stored
   * replaces it and every entry after it. */
  readonly entries: readonly Entry[]
  /** Step 1: whether the write must be synced before step 2 (a term, a vote, a snapshot or
   * entries changed). When false, the write may stay in the OS cache. */
  readonly mustSync: boolean
  /** Step 2: messages to send once step 1 is durable; any may be lost or reordered. */
  readonly messages: readonly Message[]
  /** Step 3: committed entries to apply in order, after `snapshot`; each exactly once. */
  readonly committedEntries: readonly Entry[]
  /** Step 4: reads to serve once the applied index reaches each one's `index`. */
  readonly readStates: readonly ReadState[]
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0)

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 }

export const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [] }

/** Builds a message with every unused field at its zero value. */
export function message(
  type: Message['type'],
  from: NodeId,
  to: NodeId,
  fields: Partial<Message>,
): Message {
  return {
    type,
    from,
    to,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: undefined,
    context: EMPTY_BYTES,
    ...fields,
  }
}
