// At most once (Raft thesis section 6.3, client sessions): every entry names its proposal, and
// the state remembers what each proposal returned for a window of log time. A proposal seen
// before gets its first result back and changes nothing. One stamped before the window, or at
// or before the newest proposal forgotten early to keep the table bounded, is refused: its id
// may no longer be remembered, so applying it could apply it twice.
import { PROPOSALS_REMEMBERED_MAX, PROPOSAL_WINDOW_MS } from '../../protocol/index.ts'
import { fail } from './result.ts'
import type { ApplyResult, ProposalId, State } from './types.ts'

/** The first result of a proposal applied before, marked `replayed`; undefined when new. */
export function replayed(state: State, proposal: ProposalId): ApplyResult | undefined {
  const seen = state.proposals.get(proposal.id)
  return seen === undefined ? undefined : { ...seen.result, replayed: true }
}

/** Forgets what the window no longer covers, then what the count bound does not allow. Called
 * once per entry after log time advanced, so the table never holds more than the bound. */
export function forgetProposals(state: State): void {
  const cutoff = state.logTime - PROPOSAL_WINDOW_MS
  for (const [id, seen] of state.proposals) {
    // Insertion order is apply order: the front is the oldest applied, close to the oldest
    // stamped. Stop at the first one still inside the window once the count is within bound.
    if (seen.proposedAt >= cutoff && state.proposals.size < PROPOSALS_REMEMBERED_MAX) break
    state.proposals.delete(id)
    state.proposalFloor = Math.max(state.proposalFloor, seen.proposedAt)
  }
}

/** Refuses a new proposal whose id the state might have forgotten. */
export function expired(state: State, proposal: ProposalId): ApplyResult | undefined {
  const cutoff = state.logTime - PROPOSAL_WINDOW_MS
  if (proposal.proposedAt >= cutoff && proposal.proposedAt > state.proposalFloor) return undefined
  return fail(
    'UNAVAILABLE',
    `proposal ${proposal.id} was stamped too long ago to be applied at most once: propose it ` +
      'again under a new id',
    {
      proposal: proposal.id,
      proposedAt: proposal.proposedAt,
      cutoff: Math.max(cutoff, state.proposalFloor + 1),
    },
  )
}

/** Remembers a new proposal's result for duplicates to get back. */
export function remember(state: State, proposal: ProposalId, result: ApplyResult): void {
  state.proposals.set(proposal.id, { proposedAt: proposal.proposedAt, result })
}
