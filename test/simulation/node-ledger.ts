// What one simulated peer has applied: its ledger (Replica), the membership its applied entries
// built, and the applied index, with the checks on each: entries in order, the same entry and
// state at each index everywhere, a snapshot that restores whole, and a snapshot membership
// that matches the applied one.
import { EMPTY_CONF_STATE, applyConfChange, decodeConfChange } from '../../ledger/raft/index.ts'
import type { ConfState, Entry, Snapshot } from '../../ledger/raft/index.ts'
import type { Checkers } from './checkers.ts'
import type { Proposal } from './proposal.ts'
import { Replica } from './replica.ts'
import type { ReplicaOptions } from './replica.ts'

/** How often replicas compare their whole encoded ledger (see `apply`). */
const STATE_CHECK_EVERY_ENTRIES = 16

export interface NodeLedgerHost {
  readonly checkers: Checkers
  readonly replicaOptions: ReplicaOptions
  /** A client proposal took effect here. */
  applied(entry: Entry, proposal: Proposal): void
}

export class NodeLedger {
  readonly #id: string
  readonly #host: NodeLedgerHost
  replica: Replica
  /** Membership as of the applied index (what a snapshot records). */
  conf: ConfState = EMPTY_CONF_STATE
  appliedIndex = 0

  constructor(id: string, host: NodeLedgerHost) {
    this.#id = id
    this.#host = host
    this.replica = new Replica(host.replicaOptions)
  }

  /** Restores from a snapshot, which must be whole and taken at its index. */
  restore(snapshot: Snapshot): void {
    const { metadata, data } = snapshot
    this.replica = Replica.decode(data, this.#host.replicaOptions)
    const checkers = this.#host.checkers
    const broken = this.replica.violation()
    if (broken !== undefined) checkers.fail(`${this.#id} restored: ${broken}`)
    if (this.replica.ledger.appliedIndex !== metadata.index) {
      checkers.fail(
        `${this.#id} restored a ledger at ${this.replica.ledger.appliedIndex}, not ${metadata.index}`,
      )
    }
    this.conf = metadata.confState
    this.appliedIndex = metadata.index
  }

  /** Applies one committed entry; `hash` is the node's chain hash of its log up to it. */
  apply(entry: Entry, hash: number | undefined): void {
    const checkers = this.#host.checkers
    if (entry.index !== this.appliedIndex + 1) {
      checkers.fail(`${this.#id} applied ${entry.index} after ${this.appliedIndex}`)
    }
    if (entry.type === 'conf-change') {
      this.conf = applyConfChange(this.conf, decodeConfChange(entry.data))
      this.replica.skip(entry.index)
    } else if (entry.data.byteLength > 0) {
      const { proposal, violation } = this.replica.apply(entry.index, entry.data)
      if (violation !== undefined) checkers.fail(`${this.#id}: ${violation}`)
      this.#host.applied(entry, proposal)
    } else {
      this.replica.skip(entry.index)
    }
    this.appliedIndex = entry.index
    // The entry applied is compared at every index; the whole encoded state, which costs as
    // much as the state is large, at every STATE_CHECK_EVERY_ENTRIES-th: a divergence persists,
    // so a sampled comparison still finds it, a few entries later at most.
    const state =
      entry.index % STATE_CHECK_EVERY_ENTRIES === 0 ? this.replica.encodedState() : undefined
    checkers.applied(this.#id, entry.index, hash, state)
  }

  /**
   * The snapshot at the applied index. It records the membership the core reports as of the
   * applied index (issue 8, bug 5), which must be the one the applied entries built.
   */
  snapshot(term: number, appliedConf: ConfState): Snapshot {
    if (describeConf(appliedConf) !== describeConf(this.conf)) {
      this.#host.checkers.fail(
        `snapshot membership: ${this.#id} at ${this.appliedIndex} reports ` +
          `${describeConf(appliedConf)}, its applied entries make ${describeConf(this.conf)}`,
      )
    }
    return {
      metadata: { index: this.appliedIndex, term, confState: appliedConf },
      data: this.replica.encode(),
    }
  }
}

function describeConf(conf: ConfState): string {
  const sorted = (ids: readonly string[]): string => [...ids].sort().join(',')
  return `voters {${sorted(conf.voters)}} learners {${sorted(conf.learners)}}`
}
