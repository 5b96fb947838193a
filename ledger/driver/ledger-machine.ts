// The ledger's state machine as the driver sees it: recovered from the Raft snapshot (its data
// is the encoded state at its index), fed committed Raft entries (the Raft index is the
// ledger's index: a no-op or a membership change advances it without a command), and turned
// back into a snapshot every so many entries or bytes, which lets the storage drop the log
// below it. State and applied index thus reach the disk together, in one snapshot.
import {
  SNAPSHOT_EVERY_ENTRIES,
  SNAPSHOT_LOG_BYTES_MAX,
  SNAPSHOT_RETAIN_ENTRIES,
} from '../../protocol/index.ts'
import type { RaftStorage, Snapshot, Status, Entry as RaftEntry } from '../raft/index.ts'
import {
  apply,
  assert,
  createState,
  decodeState,
  encodeState,
  ledgerViolations,
  skipEntry,
} from '../state/index.ts'
import type { ApplyResult, Entry, State } from '../state/index.ts'
import { decodeEntry } from './entry-codec.ts'

export interface SnapshotPolicy {
  /** Entries applied since the last snapshot that make the next one. */
  readonly everyEntries: number
  /** Entry bytes applied since the last snapshot that make the next one. */
  readonly everyBytes: number
  /** Entries kept below a snapshot so a slightly slow follower catches up by log. */
  readonly retainEntries: number
}

export type AppliedListener = (entry: Entry, result: ApplyResult) => void

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class LedgerMachine {
  readonly #storage: RaftStorage
  readonly #policy: SnapshotPolicy
  readonly #listeners = new Set<AppliedListener>()
  #state: State
  #appliedTerm: number
  #snapshotIndex: number
  #sinceEntries = 0
  #sinceBytes = 0

  constructor(storage: RaftStorage, policy: Partial<SnapshotPolicy> = {}) {
    this.#storage = storage
    this.#policy = {
      everyEntries: policy.everyEntries ?? SNAPSHOT_EVERY_ENTRIES,
      everyBytes: policy.everyBytes ?? SNAPSHOT_LOG_BYTES_MAX,
      retainEntries: policy.retainEntries ?? SNAPSHOT_RETAIN_ENTRIES,
    }
    const snapshot = storage.snapshot()
    this.#state = stateOf(snapshot)
    this.#appliedTerm = snapshot.metadata.term
    this.#snapshotIndex = snapshot.metadata.index
  }

  get state(): State {
    return this.#state
  }

  onApplied(listener: AppliedListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Replaces the state with a snapshot's (one a leader sent). */
  restore(snapshot: Snapshot): void {
    this.#state = stateOf(snapshot)
    this.#appliedTerm = snapshot.metadata.term
    this.#snapshotIndex = snapshot.metadata.index
    this.#sinceEntries = 0
    this.#sinceBytes = 0
  }

  /** Applies one committed Raft entry; returns the ledger entry and its result when it
   * carried a command. Entries a restored snapshot already covers are skipped. */
  applyRaftEntry(raftEntry: RaftEntry): { entry: Entry; result: ApplyResult } | undefined {
    if (raftEntry.index <= this.#state.appliedIndex) return undefined
    this.#appliedTerm = raftEntry.term
    this.#sinceEntries++
    this.#sinceBytes += raftEntry.data.byteLength
    if (raftEntry.type !== 'normal' || raftEntry.data.byteLength === 0) {
      skipEntry(this.#state, raftEntry.index)
      return undefined
    }
    const entry = decodeEntry(raftEntry.index, raftEntry.data)
    const result = apply(this.#state, entry)
    for (const listener of this.#listeners) listener(entry, result)
    return { entry, result }
  }

  /** Takes a snapshot at the applied index when enough was applied since the last, and lets
   * the storage drop the log below it. `status` is taken after advance(): its `appliedConf`
   * is the membership at the applied index. */
  async maybeCompact(status: Status): Promise<void> {
    if (
      this.#sinceEntries < this.#policy.everyEntries &&
      this.#sinceBytes < this.#policy.everyBytes
    ) {
      return
    }
    const index = this.#state.appliedIndex
    if (index <= this.#snapshotIndex) return
    const snapshot: Snapshot = {
      metadata: { index, term: this.#appliedTerm, confState: status.appliedConf },
      data: encoder.encode(encodeState(this.#state)),
    }
    await this.#storage.compact(snapshot, this.#policy.retainEntries)
    this.#snapshotIndex = index
    this.#sinceEntries = 0
    this.#sinceBytes = 0
  }
}

/** The state a snapshot holds; an empty one (a new log) is the empty state at its index. */
function stateOf(snapshot: Snapshot): State {
  if (snapshot.data.byteLength === 0) {
    const state = createState()
    state.appliedIndex = snapshot.metadata.index
    return state
  }
  const state = decodeState(decoder.decode(snapshot.data))
  assert(
    state.appliedIndex === snapshot.metadata.index,
    `snapshot at ${snapshot.metadata.index} holds the state at ${state.appliedIndex}`,
  )
  const violations = ledgerViolations(state)
  assert(violations.length === 0, `snapshot does not add up: ${violations.join('; ')}`)
  return state
}
