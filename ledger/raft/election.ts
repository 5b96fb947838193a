// Elections (paper section 5.2, thesis section 9.6 for PreVote): campaigning, answering vote
// requests, and the candidate's and pre-candidate's handling of messages.
import { voteResult } from './membership.ts'
import type { Raft } from './raft.ts'
import { handleAppend, handleHeartbeat, handleSnapshot } from './follower.ts'
import type { Message } from './types.ts'
import { NONE } from './types.ts'

export type CampaignKind = 'pre-election' | 'election' | 'transfer'

/** A vote request context that forces a vote past the leader lease (leadership transfer). */
const TRANSFER_CONTEXT = new TextEncoder().encode('transfer')

export function campaign(r: Raft, kind: CampaignKind): void {
  let term: number
  if (kind === 'pre-election') {
    r.becomePreCandidate()
    // Ask for the term we would use, without moving to it yet.
    term = r.term + 1
  } else {
    r.becomeCandidate()
    term = r.term
  }
  const type = kind === 'pre-election' ? 'pre-vote' : 'vote'
  if (poll(r, r.id, true) === 'won') {
    // A single voter wins at once.
    if (kind === 'pre-election') campaign(r, 'election')
    else r.becomeLeader()
    return
  }
  for (const id of r.conf.voters) {
    if (id === r.id) continue
    r.send({
      type,
      to: id,
      term,
      index: r.log.lastIndex(),
      logTerm: r.log.lastTerm(),
      context: kind === 'transfer' ? TRANSFER_CONTEXT : new Uint8Array(0),
    })
  }
}

function poll(r: Raft, id: string, granted: boolean): ReturnType<typeof voteResult> {
  if (!r.votes.has(id)) r.votes.set(id, granted)
  return voteResult(r.conf.voters, r.votes)
}

/** Grants a vote to a candidate whose log is at least as up to date as ours (5.4.1). */
export function handleVoteRequest(r: Raft, m: Message): void {
  const responseType = m.type === 'vote' ? 'vote-response' : 'pre-vote-response'
  const canVote =
    r.vote === m.from ||
    (r.vote === NONE && r.lead === NONE) ||
    (m.type === 'pre-vote' && m.term > r.term)
  if (canVote && r.log.isUpToDate(m.index, m.logTerm)) {
    // The response carries the term asked for, so a pre-candidate counts it.
    r.send({ type: responseType, to: m.from, term: m.term })
    if (m.type === 'vote') {
      r.electionElapsed = 0
      r.vote = m.from
    }
    return
  }
  r.send({ type: responseType, to: m.from, reject: true })
}

export function stepCandidate(r: Raft, m: Message): void {
  const responseType = r.role === 'pre-candidate' ? 'pre-vote-response' : 'vote-response'
  switch (m.type) {
    case 'append':
      r.becomeFollower(m.term, m.from)
      handleAppend(r, m)
      return
    case 'heartbeat':
      r.becomeFollower(m.term, m.from)
      handleHeartbeat(r, m)
      return
    case 'snapshot':
      r.becomeFollower(m.term, m.from)
      handleSnapshot(r, m)
      return
    case responseType: {
      const result = poll(r, m.from, !m.reject)
      if (result === 'won') {
        if (r.role === 'pre-candidate') campaign(r, 'election')
        else r.becomeLeader()
      } else if (result === 'lost') {
        // A rejection from a higher term already made us a follower in Raft.step.
        r.becomeFollower(r.term, NONE)
      }
      return
    }
    default:
      // Proposals, reads and transfers wait for a leader; the caller retries.
      return
  }
}
