// The storage the consensus core reads from. The core owns this interface (DESIGN section 2);
// ledger/storage implements it in memory and over LevelDB.
import type { ConfState, Entry, HardState, Snapshot } from './types.ts'

/** What a restarted peer reads before it takes part again. */
export interface InitialState {
  readonly hardState: HardState
  /** Membership as of the storage's snapshot; conf-change entries after it are replayed. */
  readonly confState: ConfState
}

/** One durable write: everything a Ready asks to persist, written atomically. */
export interface StorageUpdate {
  readonly hardState: HardState | undefined
  /** Replaces any stored entries at or above `entries[0].index`. */
  readonly entries: readonly Entry[]
  /** Installed before `entries`; drops every stored entry at or below its index. */
  readonly snapshot: Snapshot | undefined
}

/**
 * Reads are synchronous because the core is: implementations keep the log tail (everything
 * above the last compaction) in memory and write it through to disk.
 *
 * Index bounds: entries exist in [firstIndex(), lastIndex()]; `term(firstIndex() - 1)` is the
 * snapshot's term and must still answer. Below that a read throws CompactedError, above
 * lastIndex() it throws UnavailableError.
 */
export interface RaftStorage {
  initialState(): InitialState
  /** Entries in [low, high), at least one if any exist, then stopping before `bytesMax`. */
  entries(low: number, high: number, bytesMax: number): Entry[]
  term(index: number): number
  firstIndex(): number
  lastIndex(): number
  /** The latest snapshot; the core sends it to a follower too far behind for entries. */
  snapshot(): Snapshot

  /**
   * Persists one Ready's snapshot, entries and hard state in one atomic write. With
   * `sync: true` it resolves only after the write is on stable storage.
   */
  save(update: StorageUpdate, options: { readonly sync: boolean }): Promise<void>
  /**
   * Records the application's snapshot at `index` (at most the applied index) and drops the
   * entries at or below `index - retainEntries`, so slow followers can still catch up by log.
   */
  compact(snapshot: Snapshot, retainEntries: number): Promise<void>
}

/** The size an entry counts for in message and batch limits. */
export function entryBytes(entry: Entry): number {
  // A fixed overhead keeps empty entries (no-ops) from being free in a byte budget.
  return entry.data.byteLength + 16
}

/** A prefix of `entries` whose total size stays within `bytesMax`, but never empty. */
export function limitBytes<T extends Entry>(entries: T[], bytesMax: number): T[] {
  let total = 0
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as T
    total += entryBytes(entry)
    if (i > 0 && total > bytesMax) return entries.slice(0, i)
  }
  return entries
}
