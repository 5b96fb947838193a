// Membership as read from the log: the base (the snapshot's) and the membership after every
// conf-change entry above it, so the membership as of any index in the log can be told: the
// appended one (in force), the committed one (who may campaign), the applied one (snapshots).
import { RAFT_CONF_SCAN_BYTES_MAX } from '../../protocol/index.ts'
import { applyConfChange, decodeConfChange } from './membership.ts'
import type { RaftLog } from './raft-log.ts'
import type { ConfState } from './types.ts'

interface ConfEntry {
  readonly index: number
  readonly conf: ConfState
}

export class ConfHistory {
  #base: ConfState
  /** Conf-change entries above the log's start, oldest first. */
  #entries: ConfEntry[] = []

  constructor(base: ConfState) {
    this.#base = base
  }

  /** Re-reads conf-change entries from `from` on, after the log changed there; returns the
   * membership now in force. */
  rescan(log: RaftLog, from: number): ConfState {
    this.#entries = this.#entries.filter((entry) => entry.index < from)
    let conf = this.latest()
    let next = Math.max(from, log.firstIndex())
    const last = log.lastIndex()
    while (next <= last) {
      const chunk = log.slice(next, last + 1, RAFT_CONF_SCAN_BYTES_MAX)
      for (const entry of chunk) {
        if (entry.type !== 'conf-change') continue
        conf = applyConfChange(conf, decodeConfChange(entry.data))
        this.#entries.push({ index: entry.index, conf })
      }
      next += chunk.length
    }
    return conf
  }

  /** Starts over from a snapshot's membership: the log below it is gone. */
  restore(base: ConfState): void {
    this.#base = base
    this.#entries = []
  }

  /** The membership as of `index`: the newest conf-change entry at or below it, or the base. */
  at(index: number): ConfState {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i] as ConfEntry
      if (entry.index <= index) return entry.conf
    }
    return this.#base
  }

  /** The membership after the newest conf-change entry, or the base. */
  latest(): ConfState {
    return this.#entries[this.#entries.length - 1]?.conf ?? this.#base
  }

  /** The index of the newest conf-change entry, or 0. */
  lastIndex(): number {
    return this.#entries[this.#entries.length - 1]?.index ?? 0
  }
}
