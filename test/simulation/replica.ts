// What one simulated peer applies: the real ledger state machine (ledger/state), plus the ids
// of the client proposals applied so far, which the exactly-once check needs. Both travel in
// a snapshot, so a peer caught up by snapshot still knows what it applied.
//
// A proposal may reach the log more than once (a duplicated forward, a client's retry with the
// same id); that is Raft working as designed. What must hold is the ledger's side: a proposal
// takes effect once, so applying it again leaves the ledger as it was.
import {
  InvariantError,
  apply,
  createState,
  encodeState,
  ledgerViolations,
  restoreState,
  snapshotState,
} from '../../ledger/state/index.ts'
import type { State, StateSnapshot } from '../../ledger/state/index.ts'
import { decodeProposal } from './proposal.ts'
import type { Proposal } from './proposal.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export interface ReplicaOptions {
  /** Bug switch (issue 8, bug 4): entries reach the ledger with no identity of their own, as
   * forwarded proposals did, so the ledger cannot tell a retry from a new proposal. */
  readonly stripProposalIds?: boolean
}

interface ReplicaSnapshot {
  readonly ledger: StateSnapshot
  readonly proposals: string[]
}

export class Replica {
  readonly ledger: State
  readonly proposals: Set<string>
  readonly #options: ReplicaOptions

  constructor(
    options: ReplicaOptions = {},
    ledger: State = createState(),
    proposals: Iterable<string> = [],
  ) {
    this.#options = options
    this.ledger = ledger
    this.proposals = new Set(proposals)
  }

  /** Advances past a Raft entry that carries no command (a leader's no-op, a membership
   * change): ledger indices stay Raft indices, so a fence is the assign entry's log index. */
  skip(index: number): void {
    this.ledger.appliedIndex = index
  }

  /**
   * Applies the proposal an entry carries. Returns the proposal and, if something broke, a
   * violation in words: a repeated proposal that changed the ledger again, an assertion inside
   * the ledger, or a ledger invariant (ledgerViolations) after it.
   */
  apply(index: number, data: Uint8Array): { proposal: Proposal; violation: string | undefined } {
    const proposal = decodeProposal(data)
    const entryId = this.#options.stripProposalIds ? `entry-${index}` : proposal.id
    // A repeat the ledger knows by its id gets its first result back before apply touches the
    // state (ledger/state/apply.ts); only one it does not know is compared whole, which costs
    // two encodings of the ledger.
    const unknownRepeat = this.proposals.has(proposal.id) && !this.ledger.sessions.has(entryId)
    const before = unknownRepeat ? this.#stateAfterNoEffect(index, proposal) : ''
    this.proposals.add(proposal.id)
    try {
      apply(this.ledger, {
        index,
        logTime: proposal.logTime,
        // Each simulated proposal is its own session (sequence 1): a retry reuses it, so the
        // ledger answers it with the first result.
        proposal: {
          session: entryId,
          sequence: 1,
          acknowledged: 0,
          proposedAt: this.#options.stripProposalIds ? proposal.logTime : proposal.proposedAt,
        },
        command: proposal.command,
      })
    } catch (error) {
      if (!(error instanceof InvariantError)) throw error
      return { proposal, violation: `ledger assertion at ${index}: ${error.message}` }
    }
    if (before !== '' && encodeState(this.ledger) !== before) {
      const violation = `exactly once: proposal ${proposal.id} changed the ledger again at ${index}`
      return { proposal, violation }
    }
    return { proposal, violation: this.violation() }
  }

  /** The encoded ledger as it must be after an entry at `index` with no effect: only the
   * applied index and the log time move. Costs two encodings, paid only for repeats. */
  #stateAfterNoEffect(index: number, proposal: Proposal): string {
    const { appliedIndex, logTime } = this.ledger
    this.ledger.appliedIndex = index
    this.ledger.logTime = Math.max(logTime, proposal.logTime)
    const encoded = encodeState(this.ledger)
    this.ledger.appliedIndex = appliedIndex
    this.ledger.logTime = logTime
    return encoded
  }

  /** The ledger's broken invariants (ledgerViolations) in words, if any. */
  violation(): string | undefined {
    const broken = ledgerViolations(this.ledger)
    return broken.length === 0 ? undefined : `ledger invariant: ${broken.join('; ')}`
  }

  /** The encoded ledger (encodeState) and how many proposals were applied: replicas at the
   * same index must agree on it byte for byte. */
  encodedState(): string {
    return `${this.proposals.size}|${encodeState(this.ledger)}`
  }

  encode(): Uint8Array {
    const snapshot: ReplicaSnapshot = {
      ledger: snapshotState(this.ledger),
      proposals: [...this.proposals],
    }
    return encoder.encode(JSON.stringify(snapshot))
  }

  static decode(data: Uint8Array, options: ReplicaOptions = {}): Replica {
    if (data.byteLength === 0) return new Replica(options)
    const snapshot = JSON.parse(decoder.decode(data)) as ReplicaSnapshot
    return new Replica(options, restoreState(snapshot.ledger), snapshot.proposals)
  }
}
