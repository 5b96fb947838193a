// At most once (Raft thesis section 6.3, client sessions). A proposal is named by its proposer
// session and a sequence in it. Per session the state keeps a floor, below which the proposer
// acknowledged every result, and the results of the sequences above it: a duplicate gets the
// first result back, or "already applied" at or below the floor, and changes nothing. The
// proposer bounds what is above the floor (SESSION_PROPOSALS_IN_FLIGHT_MAX), and sessions
// expire after SESSION_IDLE_MS of log time without a proposal, so the table stays bounded
// however many proposals a second go through it.
//
// A session starts with its proposal of sequence 1 (no separate open command: the proposer
// would have to wait for the open's commit before its first real proposal). Anything else for
// a session the state does not know, because it never started or because it expired, is
// refused: applying it could apply a proposal twice. A first proposal stamped longer ago than
// the idle limit is refused too: its session may have lived and expired since.
import {
  SESSION_IDLE_MS,
  SESSION_PROPOSALS_IN_FLIGHT_MAX,
  SESSIONS_MAX,
} from '../../protocol/index.ts'
import { fail } from './result.ts'
import type { ApplyResult, ProposalId, Session, State } from './types.ts'

/** Why a proposal was refused before its command ran; each is safe to propose again under the
 * same id, since nothing was applied or remembered. */
export type SessionRefusal =
  'unknown-session' | 'stale-session' | 'too-many-sessions' | 'beyond-window'

/** Forgets the sessions silent for longer than the idle limit. Called once per entry after
 * log time advanced; the map is in order of activity, so it stops at the first live one. */
export function expireSessions(state: State): void {
  for (const [name, session] of state.sessions) {
    if (session.activeAt + SESSION_IDLE_MS >= state.logTime) break
    state.sessions.delete(name)
  }
}

/**
 * Finds (or starts) the proposal's session and decides whether its command may run: returns
 * the session when it may, or the answer to give instead: the first result of a duplicate,
 * "already applied", or a refusal.
 */
export function admit(state: State, proposal: ProposalId): Session | ApplyResult {
  const known = state.sessions.get(proposal.session)
  const session = known ?? opened(state, proposal)
  if (!isSession(session)) return session
  // Re-inserted so that the map stays in order of activity (see expireSessions).
  state.sessions.delete(proposal.session)
  state.sessions.set(proposal.session, session)
  session.activeAt = Math.max(session.activeAt, state.logTime, proposal.proposedAt)
  // A proposer cannot have seen the result of this very proposal, nor of a later one.
  const floor = Math.min(proposal.acknowledged, proposal.sequence - 1)
  if (floor > session.floor) dropAcknowledged(session, floor)
  if (proposal.sequence <= session.floor) return alreadyApplied(proposal)
  const first = session.results.get(proposal.sequence)
  if (first !== undefined) return { ...first, replayed: true }
  if (proposal.sequence > session.floor + SESSION_PROPOSALS_IN_FLIGHT_MAX) {
    return refuse(proposal, 'beyond-window', 'more proposals than the window allows in flight')
  }
  return session
}

/** Remembers a new proposal's result for its duplicates to get back. */
export function remember(session: Session, proposal: ProposalId, result: ApplyResult): void {
  session.results.set(proposal.sequence, result)
}

/** Raises the floor and drops the results at or below it. Every kept result is above the old
 * floor, so it walks whichever is shorter: the sequences passed over or the results kept. */
function dropAcknowledged(session: Session, floor: number): void {
  if (floor - session.floor <= session.results.size) {
    for (let sequence = session.floor + 1; sequence <= floor; sequence++) {
      session.results.delete(sequence)
    }
  } else {
    for (const sequence of session.results.keys()) {
      if (sequence <= floor) session.results.delete(sequence)
    }
  }
  session.floor = floor
}

export function isSession(value: Session | ApplyResult): value is Session {
  return 'floor' in value
}

function opened(state: State, proposal: ProposalId): Session | ApplyResult {
  if (proposal.sequence !== 1) {
    return refuse(proposal, 'unknown-session', 'its session is unknown or expired')
  }
  if (proposal.proposedAt + SESSION_IDLE_MS < state.logTime) {
    return refuse(proposal, 'stale-session', 'it opens a session too long after it was made')
  }
  if (state.sessions.size >= SESSIONS_MAX) {
    return refuse(proposal, 'too-many-sessions', `${SESSIONS_MAX} sessions are open`)
  }
  return { floor: 0, results: new Map(), activeAt: state.logTime }
}

function refuse(proposal: ProposalId, reason: SessionRefusal, why: string): ApplyResult {
  return fail(
    'UNAVAILABLE',
    `proposal ${proposal.session}#${proposal.sequence} was refused: ${why}`,
    { reason, session: proposal.session, sequence: proposal.sequence },
  )
}

function alreadyApplied(proposal: ProposalId): ApplyResult {
  const result = fail(
    'CONFLICT',
    `proposal ${proposal.session}#${proposal.sequence} was applied before and its result ` +
      'acknowledged',
    { reason: 'already-applied', session: proposal.session, sequence: proposal.sequence },
  )
  return { ...result, replayed: true }
}
