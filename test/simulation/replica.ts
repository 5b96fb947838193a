// What one simulated peer applies: the real ledger state machine (ledger/state), plus the ids
// of the client proposals applied so far, which the exactly-once check needs. Both travel in
// a snapshot, so a peer caught up by snapshot still knows what it applied.
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

interface ReplicaSnapshot {
  readonly ledger: StateSnapshot
  readonly proposals: string[]
}

export class Replica {
  readonly ledger: State
  readonly proposals: Set<string>

  constructor(ledger: State = createState(), proposals: Iterable<string> = []) {
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
   * violation in words: the proposal applied before, an assertion inside the ledger, or a
   * ledger invariant (ledgerViolations) after it.
   */
  apply(index: number, data: Uint8Array): { proposal: Proposal; violation: string | undefined } {
    const proposal = decodeProposal(data)
    if (this.proposals.has(proposal.id)) {
      return { proposal, violation: `exactly once: proposal ${proposal.id} applied twice` }
    }
    this.proposals.add(proposal.id)
    try {
      apply(this.ledger, {
        index,
        logTime: proposal.logTime,
        // Each simulated proposal is its own session: the simulator checks exactly once itself.
        proposal: {
          session: proposal.id,
          sequence: 1,
          acknowledged: 0,
          proposedAt: proposal.logTime,
        },
        command: proposal.command,
      })
    } catch (error) {
      if (!(error instanceof InvariantError)) throw error
      return { proposal, violation: `ledger assertion at ${index}: ${error.message}` }
    }
    return { proposal, violation: this.violation() }
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

  static decode(data: Uint8Array): Replica {
    if (data.byteLength === 0) return new Replica()
    const snapshot = JSON.parse(decoder.decode(data)) as ReplicaSnapshot
    return new Replica(restoreState(snapshot.ledger), snapshot.proposals)
  }
}
