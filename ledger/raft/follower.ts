// The follower: accepting appends after the previous-entry check (5.3), heartbeats, and
// snapshots from the leader (section 7); forwarding proposals and reads to the leader.
import type { Raft } from './raft.ts'
import type { Message } from './types.ts'
import { NONE } from './types.ts'

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'propose':
    case 'read-index':
    case 'transfer-leader':
      if (r.lead === NONE) return
      if (m.type === 'propose' && r.config.disableProposalForwarding) return
      r.messages.push({ ...m, to: r.lead })
      return
    case 'append':
      r.electionElapsed = 0
      r.lead = m.from
      handleAppend(r, m)
      return
    case 'heartbeat':
      r.electionElapsed = 0
      r.lead = m.from
      handleHeartbeat(r, m)
      return
    case 'snapshot':
      r.electionElapsed = 0
      r.lead = m.from
      handleSnapshot(r, m)
      return
    case 'timeout-now':
      // The leader asks us to take over now (thesis 3.10): skip PreVote, force the votes.
      r.hup(true)
      return
    case 'read-index-response':
      r.readStates.push({ index: m.index, context: m.context })
      return
    default:
      return
  }
}

export function handleAppend(r: Raft, m: Message): void {
  if (m.index < r.log.committed) {
    // Everything up to our commit matches any leader's log; say where we are.
    r.send({ type: 'append-response', to: m.from, index: r.log.committed })
    return
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
  if (lastNew !== undefined) {
    if (m.entries.length > 0) r.onLogChanged(m.index + 1)
    r.send({ type: 'append-response', to: m.from, index: lastNew })
    return
  }
  // Reject with a hint: the last index whose term could still match the leader's (fast
  // backtracking), and its term, so the leader can skip whole terms at once.
  const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm)
  r.send({
    type: 'append-response',
    to: m.from,
    index: m.index,
    reject: true,
    rejectHint: hint.index,
    logTerm: hint.term,
  })
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()))
  r.send({ type: 'heartbeat-response', to: m.from, context: m.context })
}

export function handleSnapshot(r: Raft, m: Message): void {
  const snapshot = m.snapshot
  if (snapshot === undefined) return
  const { index, term, confState } = snapshot.metadata
  if (index <= r.log.committed) {
    r.send({ type: 'append-response', to: m.from, index: r.log.committed })
    return
  }
  if (r.log.matchTerm(index, term)) {
    // We already hold the snapshot's last entry, so our log up to it matches: just commit.
    r.log.commitTo(index)
    // Only the prefix up to the snapshot is known to match; our suffix may not.
    r.send({ type: 'append-response', to: m.from, index: r.log.committed })
    return
  }
  r.log.restore(snapshot)
  r.onSnapshotRestored(confState)
  r.send({ type: 'append-response', to: m.from, index: r.log.lastIndex() })
}
