// The log as the core sees it: stable entries in storage, then the unstable tail, with the
// commit and applied indexes. Invariant: applied <= committed <= lastIndex().
import type { TestingKnobs } from './config.ts'
import { CompactedError, assert } from './errors.ts'
import type { RaftStorage } from './storage.ts'
import { limitBytes } from './storage.ts'
import type { Entry, Snapshot } from './types.ts'
import { Unstable } from './unstable.ts'

export class RaftLog {
  readonly storage: RaftStorage
  readonly unstable: Unstable
  readonly #knobs: TestingKnobs
  committed: number
  applied: number

  constructor(storage: RaftStorage, knobs: TestingKnobs) {
    this.storage = storage
    this.#knobs = knobs
    this.unstable = new Unstable(storage.lastIndex() + 1)
    this.committed = storage.firstIndex() - 1
    this.applied = storage.firstIndex() - 1
  }

  firstIndex(): number {
    return this.unstable.firstIndex() ?? this.storage.firstIndex()
  }

  lastIndex(): number {
    return this.unstable.lastIndex() ?? this.storage.lastIndex()
  }

  /** The term at `index`, or undefined when it is compacted away or beyond the log. */
  term(index: number): number | undefined {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined
    const unstable = this.unstable.term(index)
    if (unstable !== undefined) return unstable
    return this.storage.term(index)
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex())
    assert(term !== undefined, 'the last entry has no term')
    return term
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term
  }

  /** Whether a candidate's log ending at (index, term) is at least as up to date (5.4.1). */
  isUpToDate(index: number, term: number): boolean {
    const lastTerm = this.lastTerm()
    return term > lastTerm || (term === lastTerm && index >= this.lastIndex())
  }

  /** The index of the first entry whose term differs from ours, or 0 if none. */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index
    }
    return 0
  }

  /**
   * The largest index at or below `index` whose term is at most `term` (fast backtracking):
   * every entry above it is known not to match a log whose entry at `index` has `term`.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = Math.min(index, this.lastIndex()); i >= 0; i--) {
      const t = this.term(i)
      if (t === undefined) return { index: i, term: 0 }
      if (t <= term) return { index: i, term: t }
    }
    return { index: 0, term: 0 }
  }

  /**
   * A follower's append: if our entry at `index` has `logTerm`, truncates any conflicting
   * suffix, appends, and advances the commit index. Returns the last new index, or
   * undefined when the previous entry does not match (5.3).
   */
  maybeAppend(
    index: number,
    logTerm: number,
    committed: number,
    entries: readonly Entry[],
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined
    const lastNew = index + entries.length
    const conflict = this.findConflict(entries)
    if (conflict !== 0) {
      assert(conflict > this.committed, `conflict at ${conflict} <= committed ${this.committed}`)
      if (this.#knobs.skipConflictTruncation === true && conflict <= this.lastIndex()) {
        // The bug: keep our own suffix and only add what lies beyond it.
        this.append(entries.filter((entry) => entry.index > this.lastIndex()))
      } else {
        this.append(entries.slice(conflict - (index + 1)))
      }
    }
    this.commitTo(Math.min(committed, lastNew))
    return lastNew
  }

  append(entries: readonly Entry[]): number {
    const first = entries[0]
    if (first === undefined) return this.lastIndex()
    assert(first.index > this.committed, `append at ${first.index} over committed`)
    this.unstable.truncateAndAppend(entries)
    return this.lastIndex()
  }

  commitTo(commit: number): void {
    if (commit <= this.committed) return
    assert(commit <= this.lastIndex(), `commit ${commit} beyond last ${this.lastIndex()}`)
    this.committed = commit
  }

  appliedTo(index: number): void {
    if (index === 0) return
    const limit = this.#knobs.applyBeforeCommit === true ? this.lastIndex() : this.committed
    assert(index <= limit && index >= this.applied, `applied ${index} out of range`)
    this.applied = index
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term)
  }

  stableSnapshotTo(index: number): void {
    this.unstable.stableSnapshotTo(index)
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index
    this.unstable.restore(snapshot)
  }

  /** Entries the application should apply next, bounded in bytes. */
  nextCommittedEntries(bytesMax: number): Entry[] {
    const low = Math.max(this.applied + 1, this.firstIndex())
    const limit = this.#knobs.applyBeforeCommit === true ? this.lastIndex() : this.committed
    if (limit + 1 <= low) return []
    return this.slice(low, limit + 1, bytesMax)
  }

  hasNextCommittedEntries(): boolean {
    const low = Math.max(this.applied + 1, this.firstIndex())
    const limit = this.#knobs.applyBeforeCommit === true ? this.lastIndex() : this.committed
    return limit >= low
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot()
  }

  /** Entries from `low` to the end, bounded in bytes. Throws CompactedError below first. */
  entriesFrom(low: number, bytesMax: number): Entry[] {
    if (low > this.lastIndex()) return []
    return this.slice(low, this.lastIndex() + 1, bytesMax)
  }

  slice(low: number, high: number, bytesMax: number): Entry[] {
    if (low < this.firstIndex()) throw new CompactedError(low)
    assert(high <= this.lastIndex() + 1, `slice [${low}, ${high}) beyond the log`)
    const offset = this.unstable.offset
    let result: Entry[] = []
    if (low < offset) {
      const stable = this.storage.entries(low, Math.min(high, offset), bytesMax)
      if (stable.length < Math.min(high, offset) - low) return stable
      result = stable
    }
    if (high > offset) {
      result = result.concat(this.unstable.slice(Math.max(low, offset), high))
    }
    return limitBytes(result, bytesMax)
  }
}
