// A node's log as chain hashes, for the checkers: the hash at index i stands for the whole
// prefix up to i, so "two logs agree up to i" is one comparison. It follows what the node
// writes, and is rebuilt from storage when the node restarts, since a crash may keep less.
import type { RaftStorage, Ready } from '../../ledger/raft/index.ts'
import type { Checkers } from './checkers.ts'
import { chainHash, hashBytes } from './hash.ts'

export class LogHashes {
  readonly #checkers: Checkers
  readonly #id: string
  #base = 0
  #hashes: number[] = [0]

  constructor(id: string, checkers: Checkers) {
    this.#id = id
    this.#checkers = checkers
  }

  /** The chain hash of the log up to `index`, if this node can tell. */
  at(index: number): number | undefined {
    return this.#hashes[index - this.#base]
  }

  /** A Ready's snapshot and entries, as the node writes them; entries are checked for log
   * matching against every other node's. */
  written(ready: Ready): void {
    if (ready.snapshot !== undefined) {
      const { index, term } = ready.snapshot.metadata
      this.#restart(index, term)
    }
    for (const entry of ready.entries) {
      this.#hashes.length = Math.max(0, entry.index - this.#base)
      const previous = this.at(entry.index - 1)
      if (previous === undefined) continue
      const hash = chainHash(previous, entry.term, hashBytes(entry.data))
      this.#hashes.push(hash)
      this.#checkers.entryPersisted(this.#id, entry.index, entry.term, hash)
    }
  }

  /** Rebuilds from what `storage` holds now: the log after a restart. */
  reload(storage: RaftStorage): void {
    const base = storage.firstIndex() - 1
    this.#restart(base, storage.term(base))
    const last = storage.lastIndex()
    if (last < base + 1) return
    for (const entry of storage.entries(base + 1, last + 1, Infinity)) {
      const previous = this.at(entry.index - 1)
      if (previous === undefined) return
      this.#hashes.push(chainHash(previous, entry.term, hashBytes(entry.data)))
    }
  }

  #restart(index: number, term: number): void {
    this.#base = index
    const hash =
      index === 0
        ? 0
        : (this.#checkers.committedHashAt(index) ?? this.#checkers.knownHash(index, term))
    this.#hashes = hash === undefined ? [] : [hash]
  }
}
