// RaftStorage in memory (etcd's MemoryStorage): used by tests, the simulator, and as the cache
// in front of LevelDB. Entry 0 of the array is a dummy holding the index and term of the last
// compacted entry, so term(firstIndex - 1) always answers.
import {
  CompactedError,
  EMPTY_CONF_STATE,
  EMPTY_HARD_STATE,
  UnavailableError,
} from '../raft/index.ts'
import { limitBytes } from '../raft/index.ts'
import type {
  Entry,
  HardState,
  InitialState,
  RaftStorage,
  Snapshot,
  StorageUpdate,
} from '../raft/index.ts'

export class MemoryRaftStorage implements RaftStorage {
  #hardState: HardState = EMPTY_HARD_STATE
  #snapshot: Snapshot
  /** `#entries[0]` is the dummy at the compaction point; real entries follow. */
  #entries: Entry[]

  /** A new, empty log with no members; founding members then save `bootstrapState`. */
  constructor() {
    this.#snapshot = {
      metadata: { index: 0, term: 0, confState: EMPTY_CONF_STATE },
      data: new Uint8Array(0),
    }
    this.#entries = [dummy(0, 0)]
  }

  /** Rebuilds a storage from parts read back from disk (used by LevelRaftStorage). */
  static fromParts(parts: {
    readonly hardState: HardState
    readonly snapshot: Snapshot
    /** Index and term of the last compacted entry. */
    readonly start: { readonly index: number; readonly term: number }
    readonly entries: readonly Entry[]
  }): MemoryRaftStorage {
    const storage = new MemoryRaftStorage()
    storage.#hardState = parts.hardState
    storage.#snapshot = parts.snapshot
    storage.#entries = [dummy(parts.start.index, parts.start.term), ...parts.entries]
    return storage
  }

  /** Index and term of the last compacted entry (the dummy). */
  start(): { index: number; term: number } {
    const first = this.#entries[0] as Entry
    return { index: first.index, term: first.term }
  }

  initialState(): InitialState {
    return { hardState: this.#hardState, confState: this.#snapshot.metadata.confState }
  }

  hardState(): HardState {
    return this.#hardState
  }

  entries(low: number, high: number, bytesMax: number): Entry[] {
    const offset = this.#offset()
    if (low <= offset) throw new CompactedError(low)
    if (high > this.lastIndex() + 1) throw new UnavailableError(high - 1)
    return limitBytes(this.#entries.slice(low - offset, high - offset), bytesMax)
  }

  term(index: number): number {
    const offset = this.#offset()
    if (index < offset) throw new CompactedError(index)
    const entry = this.#entries[index - offset]
    if (entry === undefined) throw new UnavailableError(index)
    return entry.term
  }

  firstIndex(): number {
    return this.#offset() + 1
  }

  lastIndex(): number {
    return this.#offset() + this.#entries.length - 1
  }

  snapshot(): Snapshot {
    return this.#snapshot
  }

  /** Applied at the call, so in call order; a refused update rejects, as LevelDB's would. */
  save(update: StorageUpdate): Promise<void> {
    return settle(() => this.apply(update))
  }

  compact(snapshot: Snapshot, retainEntries: number): Promise<void> {
    return settle(() => this.compactSync(snapshot, retainEntries))
  }

  /**
   * The synchronous body of save(), for drivers (the simulator) that model the disk. Atomic:
   * an update that would leave a gap after the log (or after its snapshot) throws
   * UnavailableError and changes nothing.
   */
  apply(update: StorageUpdate): void {
    const snapshot = update.snapshot
    const installs =
      snapshot !== undefined && snapshot.metadata.index > this.#snapshot.metadata.index
    const last = installs ? snapshot.metadata.index : this.lastIndex()
    const next = update.entries.find((entry) => entry.index > (installs ? last : this.#offset()))
    if (next !== undefined && next.index > last + 1) throw new UnavailableError(next.index)
    if (installs) this.installSnapshot(snapshot)
    if (update.entries.length > 0) this.append(update.entries)
    if (update.hardState !== undefined) this.#hardState = update.hardState
  }

  /** Replaces the log with a snapshot received from the leader. Older snapshots are ignored. */
  installSnapshot(snapshot: Snapshot): void {
    if (snapshot.metadata.index <= this.#snapshot.metadata.index) return
    this.#snapshot = snapshot
    this.#entries = [dummy(snapshot.metadata.index, snapshot.metadata.term)]
  }

  /** Appends, replacing any entries at or above the first new index. */
  append(entries: readonly Entry[]): void {
    const first = entries[0]
    if (first === undefined) return
    const offset = this.#offset()
    // Entries at or below the compaction point are already in the snapshot.
    const fresh = first.index <= offset ? entries.slice(offset + 1 - first.index) : entries
    const start = fresh[0]
    if (start === undefined) return
    if (start.index > this.lastIndex() + 1) {
      throw new UnavailableError(start.index)
    }
    // Truncate in place and push: appending is the hot path and must not copy the log.
    this.#entries.length = start.index - offset
    for (const entry of fresh) this.#entries.push(entry)
  }

  /** Records `snapshot` and drops entries at or below `snapshot.index - retainEntries`. */
  compactSync(snapshot: Snapshot, retainEntries: number): void {
    const { index } = snapshot.metadata
    if (index > this.#snapshot.metadata.index) {
      if (index > this.lastIndex()) throw new UnavailableError(index)
      this.#snapshot = snapshot
    }
    const compactTo = Math.min(index, this.#snapshot.metadata.index) - retainEntries
    const offset = this.#offset()
    if (compactTo <= offset) return
    const term = this.term(compactTo)
    this.#entries = [dummy(compactTo, term), ...this.#entries.slice(compactTo - offset + 1)]
  }

  #offset(): number {
    return (this.#entries[0] as Entry).index
  }
}

/** Runs `write` and turns what it throws into a rejection, so callers see one error path. */
function settle(write: () => void): Promise<void> {
  try {
    write()
  } catch (error) {
    return Promise.reject(error as Error)
  }
  return Promise.resolve()
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(0) }
}
