// The part of the log not yet handed to storage: entries appended since the last Ready and a
// snapshot received from the leader. `offset` is the index of `entries[0]`.
import { assert } from './errors.ts'
import type { Entry, Snapshot } from './types.ts'

export class Unstable {
  snapshot: Snapshot | undefined = undefined
  entries: Entry[] = []
  offset: number

  constructor(offset: number) {
    this.offset = offset
  }

  firstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1
  }

  lastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1
    return this.snapshot?.metadata.index
  }

  term(index: number): number | undefined {
    if (index < this.offset) {
      const meta = this.snapshot?.metadata
      return meta !== undefined && meta.index === index ? meta.term : undefined
    }
    return this.entries[index - this.offset]?.term
  }

  /** Storage now holds everything up to `index`; the term guards against a newer overwrite. */
  stableTo(index: number, term: number): void {
    if (this.term(index) !== term || index < this.offset) return
    this.entries = this.entries.slice(index + 1 - this.offset)
    this.offset = index + 1
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot?.metadata.index === index) this.snapshot = undefined
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1
    this.entries = []
    this.snapshot = snapshot
  }

  /** Appends, first dropping any entries (stable or not) at or above the new first index. */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0]
    if (first === undefined) return
    const after = first.index
    if (after === this.offset + this.entries.length) {
      this.entries.push(...entries)
    } else if (after <= this.offset) {
      // Replaces stable entries too: storage drops them when it saves these.
      this.offset = after
      this.entries = [...entries]
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(entries)
    }
  }

  slice(low: number, high: number): Entry[] {
    assert(
      low >= this.offset && high <= this.offset + this.entries.length,
      `unstable slice [${low}, ${high}) out of [${this.offset}, ${this.offset + this.entries.length})`,
    )
    return this.entries.slice(low - this.offset, high - this.offset)
  }
}
