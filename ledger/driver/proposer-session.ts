// The proposer's side of a client session (Raft thesis section 6.3; the ledger's side is
// ledger/state/proposals.ts): names proposals, and acknowledges every sequence answered
// without a gap so the ledger may drop their results.
import { SESSION_IDLE_MS } from '../../protocol/index.ts'
import type { ProposalId } from '../state/index.ts'

export class ProposerSession {
  readonly #prefix: string
  #epoch = 0
  #sequence = 0
  #settledUpTo = 0
  readonly #settled = new Set<number>()
  #activeAt = Number.NEGATIVE_INFINITY

  /** `prefix` must never have been used by any proposer (the driver: its id and a UUID). */
  constructor(prefix: string) {
    this.#prefix = prefix
    this.#open()
  }

  get inFlight(): number {
    return this.#sequence - this.#settledUpTo
  }

  /** A fresh id stamped `proposedAt`. Silent for half the idle limit with nothing in flight,
   * it opens a new session first, since the ledger may have forgotten the old one. */
  next(proposedAt: number): ProposalId {
    const idle = this.#sequence > 0 && this.inFlight === 0
    if (idle && proposedAt - this.#activeAt > SESSION_IDLE_MS / 2) this.#open()
    this.#activeAt = Math.max(this.#activeAt, proposedAt)
    return {
      session: this.#name(),
      sequence: ++this.#sequence,
      acknowledged: this.#settledUpTo,
      proposedAt,
    }
  }

  /** Records that the caller of `proposal` got its answer (a result or a final error). */
  settle(proposal: ProposalId): void {
    if (proposal.session !== this.#name() || proposal.sequence <= this.#settledUpTo) return
    this.#settled.add(proposal.sequence)
    while (this.#settled.delete(this.#settledUpTo + 1)) this.#settledUpTo++
  }

  #name(): string {
    return `${this.#prefix}/${this.#epoch}`
  }

  #open(): void {
    this.#epoch++
    this.#sequence = 0
    this.#settledUpTo = 0
    this.#settled.clear()
  }
}
