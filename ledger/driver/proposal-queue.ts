// Proposals waiting to be applied, matched to their callers by id (session and sequence) when
// an entry carrying that id is applied here, wherever it was appended. Each is handed to the
// core again while unanswered (see the driver's tick), so one lost with a leader is retried;
// the ledger's session table makes a copy that lands twice take effect once.
import { PROPOSALS_PENDING_MAX } from '../../protocol/index.ts'
import { ProposalDroppedError } from '../raft/index.ts'
import type { RawNode } from '../raft/index.ts'
import type { ApplyResult, Command, Entry, ProposalId } from '../state/index.ts'
import { DriverOverloadedError } from './errors.ts'
import { encodePayload, proposalKey } from './entry-codec.ts'
import { ProposerSession } from './proposer-session.ts'
import { WaiterTable } from './waiters.ts'
import type { PendingProposal } from './waiters.ts'

export class ProposalQueue {
  readonly session: ProposerSession
  readonly #waiting = new WaiterTable<ApplyResult, PendingProposal>()

  constructor(sessionPrefix: string) {
    this.session = new ProposerSession(sessionPrefix)
  }

  add(
    command: Command,
    proposal: ProposalId,
    options: { timeoutMs: number; signal: AbortSignal | undefined },
  ): Promise<ApplyResult> {
    if (this.#waiting.size >= PROPOSALS_PENDING_MAX) {
      return Promise.reject(new DriverOverloadedError(this.#waiting.size))
    }
    const key = proposalKey(proposal)
    if (this.#waiting.get(key) !== undefined) {
      return Promise.reject(new Error(`proposal ${key} is already waiting`))
    }
    const data = encodePayload({ logTime: proposal.proposedAt, proposal, command })
    return this.#waiting.add(
      key,
      (resolve, reject) => ({ proposal, data, sentAtTick: null, resolve, reject }),
      { ...options, onSettle: () => this.session.settle(proposal) },
    )
  }

  /** Hands the core every proposal not yet sent, as one batch: one append, one fsync. */
  handOver(node: RawNode, tick: number): void {
    const unsent = [...this.#waiting.values()].filter((pending) => pending.sentAtTick === null)
    if (unsent.length === 0) return
    try {
      node.proposeBatch(unsent.map((pending) => pending.data))
      for (const pending of unsent) pending.sentAtTick = tick
    } catch (error) {
      // No leader yet: they stay unsent and go with a later turn, until their timeout.
      if (!(error instanceof ProposalDroppedError)) throw error
    }
  }

  /** Answers the caller of an applied entry's proposal, if it was proposed here. */
  applied(entry: Entry, result: ApplyResult): void {
    const pending = this.#waiting.get(proposalKey(entry.proposal))
    if (pending === undefined) return
    // An earlier sequence of this session may not have landed yet: send it again rather than
    // answer a refusal that a retry in order turns into a result.
    const reason = result.ok ? undefined : result.error.data?.reason
    if (reason === 'unknown-session' || reason === 'beyond-window') {
      pending.sentAtTick = null
      return
    }
    pending.resolve(result)
  }

  resend(tick?: number): void {
    this.#waiting.resend(tick)
  }

  rejectAll(error: unknown): void {
    this.#waiting.rejectAll(error)
  }
}
