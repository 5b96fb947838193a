// Logical time: followers and candidates count towards an election, leaders towards heartbeats
// (voters' and, at their own slower rate, learners') and the CheckQuorum test (thesis section
// 6.2). One tick is whatever the driver says it is.
import { bcastHeartbeat } from './leader.ts'
import { voteResult } from './membership.ts'
import type { Raft } from './raft.ts'
import type { NodeId } from './types.ts'
import { NONE } from './types.ts'

export function tickElection(r: Raft): void {
  r.electionElapsed++
  if (r.promotable() && r.electionElapsed >= r.randomizedElectionTimeout) {
    r.electionElapsed = 0
    r.hup(false)
  }
}

export function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++
  r.learnerHeartbeatElapsed++
  r.electionElapsed++
  if (r.electionElapsed >= r.config.electionTicks) {
    r.electionElapsed = 0
    if (r.config.checkQuorum && !quorumActive(r)) {
      r.becomeFollower(r.term, NONE)
      return
    }
    // A transfer that did not finish within an election timeout is abandoned.
    r.leadTransferee = NONE
  }
  const voters = r.heartbeatElapsed >= r.config.heartbeatTicks
  const learners = r.learnerHeartbeatElapsed >= r.config.learnerHeartbeatTicks
  if (voters) r.heartbeatElapsed = 0
  if (learners) r.learnerHeartbeatElapsed = 0
  if (voters || learners) bcastHeartbeat(r, r.readOnly.lastContext(), { voters, learners })
}

/** CheckQuorum: whether a quorum was heard from since the last check; resets the marks. */
function quorumActive(r: Raft): boolean {
  const votes = new Map<NodeId, boolean>()
  for (const [id, progress] of r.progress) {
    votes.set(id, id === r.id || progress.recentActive)
    if (id !== r.id) progress.recentActive = false
  }
  return voteResult(r.conf.voters, votes) === 'won'
}
