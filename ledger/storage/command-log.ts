// Durable storage of the applied-command log and state snapshots. The single-voter replica
// appends every batch of entries before applying it, so an acknowledged command survives a
// crash; a snapshot and the removal of the entries it covers happen in one atomic batch.
import type { Entry } from '../state/index.ts'

export interface StoredLog {
  /** The newest snapshot (encoded state) and its index, if any. */
  readonly snapshot: { readonly index: number; readonly encoded: string } | null
  /** Entries after the snapshot, in index order. */
  readonly entries: readonly Entry[]
}

export interface CommandLog {
  open(): Promise<StoredLog>
  /** Appends entries durably (fsync) before resolving. */
  append(entries: readonly Entry[]): Promise<void>
  /** Stores a snapshot at `index` and drops the entries it covers, in one durable batch. */
  saveSnapshot(index: number, encoded: string): Promise<void>
  getMeta(key: string): Promise<string | undefined>
  /** Stores a small metadata value durably. */
  putMeta(key: string, value: string): Promise<void>
  close(): Promise<void>
}
