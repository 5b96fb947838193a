// The leader: replication with flow control (paper section 5.3), commitment of current-term
// entries only (5.4.2), ReadIndex (thesis 6.4) and leadership transfer (thesis 3.10).
import { CompactedError, ProposalDroppedError } from './errors.ts'
import { confChangeError, decodeConfChange, quorumIndex, voteResult } from './membership.ts'
import type { Raft } from './raft.ts'
import { entryBytes } from './storage.ts'
import type { Entry, Message, NodeId } from './types.ts'
import { EMPTY_BYTES, NONE } from './types.ts'

type NewEntry = Pick<Entry, 'type' | 'data'>

/** Appends entries of this leader's term; returns false when over the uncommitted bound. */
export function appendEntries(r: Raft, entries: readonly NewEntry[]): boolean {
  let bytes = 0
  for (const entry of entries) bytes += entry.data.byteLength
  if (r.uncommittedBytes > 0 && r.uncommittedBytes + bytes > r.config.uncommittedBytesMax) {
    return false
  }
  const first = r.log.lastIndex() + 1
  const stamped = entries.map((entry, i) => ({ ...entry, term: r.term, index: first + i }))
  const last = r.log.append(stamped)
  r.uncommittedBytes += bytes
  r.progress.get(r.id)?.maybeUpdate(last)
  if (stamped.some((entry) => entry.type === 'conf-change')) r.onLogChanged(first)
  // Sent at the next Ready, so everything proposed before it goes out in one append.
  r.broadcastPending = true
  return true
}

/** Applied entries of this leader's term no longer count against the uncommitted bound. */
export function releaseUncommitted(r: Raft, applied: readonly Entry[]): void {
  if (r.role !== 'leader') return
  let bytes = 0
  for (const entry of applied) if (entry.term === r.term) bytes += entry.data.byteLength
  r.uncommittedBytes = Math.max(0, r.uncommittedBytes - bytes)
}

/** Appends proposals on the leader, or throws ProposalDroppedError saying why not. */
export function propose(r: Raft, entries: readonly NewEntry[]): void {
  if (!r.conf.voters.includes(r.id)) throw new ProposalDroppedError('leader was removed')
  if (r.leadTransferee !== NONE) {
    throw new ProposalDroppedError(`leadership is moving to ${r.leadTransferee}`)
  }
  for (const entry of entries) {
    if (entry.type !== 'conf-change') continue
    // Thesis 4.1 and Ongaro's 2015 fix: one change at a time, and only after this leader
    // committed an entry of its own term.
    if (r.lastConfIndex() > r.log.committed) {
      throw new ProposalDroppedError('a conf change is still uncommitted')
    }
    if (r.log.term(r.log.committed) !== r.term) {
      throw new ProposalDroppedError('the leader has not yet committed in its term')
    }
    if (entries.filter((e) => e.type === 'conf-change').length > 1) {
      throw new ProposalDroppedError('one conf change per proposal')
    }
    const error = confChangeError(r.conf, decodeConfChange(entry.data))
    if (error !== undefined) throw new ProposalDroppedError(error)
  }
  if (!appendEntries(r, entries)) throw new ProposalDroppedError('too many uncommitted bytes')
  // A single voter commits on its own append.
  maybeCommit(r)
}

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case 'propose':
      try {
        propose(r, m.entries)
      } catch (error) {
        // A forwarded proposal has no caller here to tell; its proposer times out and retries.
        if (!(error instanceof ProposalDroppedError)) throw error
      }
      return
    case 'read-index':
      readIndex(r, m)
      return
    case 'transfer-leader':
      transferLeadership(r, m.from)
      return
    case 'append-response':
      handleAppendResponse(r, m)
      return
    case 'heartbeat-response':
      handleHeartbeatResponse(r, m)
      return
    default:
      return
  }
}

function handleAppendResponse(r: Raft, m: Message): void {
  const progress = r.progress.get(m.from)
  if (progress === undefined) return
  progress.recentActive = true
  if (m.reject) {
    // Fast backtracking: skip every entry of a term the follower cannot have.
    let hint = m.rejectHint
    if (m.logTerm > 0) hint = r.log.findConflictByTerm(m.rejectHint, m.logTerm).index
    if (progress.maybeDecreaseTo(m.index, hint)) {
      if (progress.state === 'replicate') progress.becomeProbe()
      sendAppend(r, m.from, true)
    }
    return
  }
  const wasPaused = progress.isPaused()
  const updated = progress.maybeUpdate(m.index)
  // A probe answered at the match we already knew still proves the logs agree there.
  if (!updated && !(progress.state === 'probe' && progress.match === m.index)) return
  if (progress.state === 'probe') {
    progress.becomeReplicate()
  } else if (progress.state === 'snapshot' && progress.match >= progress.pendingSnapshot) {
    progress.becomeProbe()
    progress.becomeReplicate()
  } else if (progress.state === 'replicate') {
    progress.inflights.freeLE(m.index)
  }
  if (maybeCommit(r)) {
    bcastAppend(r)
  } else if (wasPaused) {
    sendAppend(r, m.from, true)
  }
  while (r.role === 'leader' && sendAppend(r, m.from, false)) {
    // Keep filling the window while there is something to send.
  }
  if (m.from === r.leadTransferee && progress.match === r.log.lastIndex()) {
    r.send({ type: 'timeout-now', to: m.from })
  }
}

function handleHeartbeatResponse(r: Raft, m: Message): void {
  const progress = r.progress.get(m.from)
  if (progress === undefined) return
  progress.recentActive = true
  progress.probeSent = false
  // A lost append must not stall a full window forever: free a slot, so the next append goes
  // out and the follower's rejection of the gap sends us back to probing.
  if (progress.state === 'replicate' && progress.inflights.full()) progress.inflights.freeFirstOne()
  if (progress.match < r.log.lastIndex()) sendAppend(r, m.from, true)
  if (m.context.byteLength === 0) return
  const acks = r.readOnly.recordAck(m.from, m.context)
  if (acks === undefined || voteResult(r.conf.voters, acks) !== 'won') return
  for (const read of r.readOnly.release(m.context)) answerRead(r, read.request, read.index)
}

function answerRead(r: Raft, request: Message, index: number): void {
  if (request.from === r.id || request.from === NONE) {
    r.readStates.push({ index, context: request.context })
  } else {
    r.send({ type: 'read-index-response', to: request.from, index, context: request.context })
  }
}

/**
 * ReadIndex: serve at the current commit once a quorum confirms our leadership. Until this
 * leader commits an entry of its term (its no-op), its commit index may lag what an older
 * leader acknowledged, so a read that arrives earlier waits in a bounded queue (etcd's
 * pendingReadIndexMessages); when the queue is full it is dropped and its caller retries.
 */
function readIndex(r: Raft, m: Message): void {
  const knobs = r.config.testingKnobs
  const lone = r.conf.voters.length === 1 && r.conf.voters[0] === r.id
  if (lone && knobs.readBeforeNoopCommit === true) {
    answerRead(r, m, r.log.committed)
    return
  }
  if (!committedInTerm(r)) {
    if (knobs.dropEarlyReads !== true) r.readOnly.postpone(m)
    return
  }
  // A lone voter is the quorum: nobody else can have elected a newer leader.
  if (lone) {
    answerRead(r, m, r.log.committed)
    return
  }
  if (!r.readOnly.add(r.log.committed, m)) return
  r.readOnly.recordAck(r.id, m.context)
  bcastHeartbeat(r, m.context)
}

function committedInTerm(r: Raft): boolean {
  return r.log.term(r.log.committed) === r.term
}

/** Serves the reads that waited for this leader's first commit in its term. */
function releasePostponedReads(r: Raft): void {
  if (r.role !== 'leader' || !committedInTerm(r)) return
  for (const request of r.readOnly.takePostponed()) readIndex(r, request)
}

export function transferLeadership(r: Raft, target: NodeId): void {
  const progress = r.progress.get(target)
  if (progress === undefined || progress.isLearner || target === r.id) return
  if (r.leadTransferee === target) return
  r.leadTransferee = target
  // The transfer must finish within one election timeout, counted from now.
  r.electionElapsed = 0
  if (progress.match === r.log.lastIndex()) r.send({ type: 'timeout-now', to: target })
  else sendAppend(r, target, true)
}

/** Commits the quorum's index, but only an entry of this term by counting (5.4.2). */
export function maybeCommit(r: Raft): boolean {
  const index = quorumIndex(r.conf.voters, (id) => r.progress.get(id)?.match ?? 0)
  if (index <= r.log.committed) return false
  const countsPreviousTerms = r.config.testingKnobs.commitPreviousTermByCounting === true
  if (!countsPreviousTerms && r.log.term(index) !== r.term) return false
  r.log.commitTo(index)
  // A leader removed from the voters leads until that change commits, then steps down.
  if (!r.conf.voters.includes(r.id) && r.lastConfIndex() <= r.log.committed) {
    bcastAppend(r)
    r.becomeFollower(r.term, NONE)
    return false
  }
  notifyDeparted(r)
  releasePostponedReads(r)
  return true
}

/** A peer whose removal just committed hears from us once more, with the commit index (an
 * append, or a heartbeat when its window is full), so it stops campaigning; then no more. */
function notifyDeparted(r: Raft): void {
  const members = r.replicatedTo()
  let departed = false
  for (const [id, progress] of r.progress) {
    if (members.has(id)) continue
    departed = true
    if (!sendAppend(r, id, true)) sendHeartbeat(r, id, progress.match, EMPTY_BYTES)
  }
  if (departed) r.syncProgress()
}

/** Sends the next append to `to`; returns whether a message went out. */
export function sendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const progress = r.progress.get(to)
  if (r.role !== 'leader' || progress === undefined || to === r.id) return false
  if (progress.isPaused()) return false
  const prevIndex = progress.next - 1
  const prevTerm = r.log.term(prevIndex)
  let entries: Entry[]
  try {
    entries =
      prevTerm === undefined ? [] : r.log.entriesFrom(progress.next, r.config.appendBytesMax)
  } catch (error) {
    if (!(error instanceof CompactedError)) throw error
    return sendSnapshot(r, to)
  }
  if (prevTerm === undefined) return sendSnapshot(r, to)
  if (entries.length === 0 && !sendIfEmpty) return false
  r.send({
    type: 'append',
    to,
    index: prevIndex,
    logTerm: prevTerm,
    entries,
    commit: r.log.committed,
  })
  let bytes = 0
  for (const entry of entries) bytes += entryBytes(entry)
  progress.sentEntries(entries.length, prevIndex + entries.length, bytes)
  return true
}

function sendSnapshot(r: Raft, to: NodeId): boolean {
  const progress = r.progress.get(to)
  if (progress === undefined || !progress.recentActive) return false
  const snapshot = r.log.snapshot()
  r.send({ type: 'snapshot', to, snapshot })
  progress.becomeSnapshot(snapshot.metadata.index)
  return true
}

/** The transport's word on a snapshot: delivered, or lost (then probe again). */
export function reportSnapshot(r: Raft, from: NodeId, delivered: boolean): void {
  const progress = r.progress.get(from)
  if (r.role !== 'leader' || progress === undefined || progress.state !== 'snapshot') return
  if (!delivered) progress.pendingSnapshot = 0
  progress.becomeProbe()
  // Wait for the follower's answer (or the next heartbeat) before probing.
  progress.probeSent = true
}

export function bcastAppend(r: Raft): void {
  for (const id of r.progress.keys()) if (id !== r.id) sendAppend(r, id, true)
}

/** Which peers a heartbeat broadcast reaches; a ReadIndex's broadcast reaches every one. */
export interface HeartbeatTargets {
  readonly voters: boolean
  readonly learners: boolean
}

const EVERY_PEER: HeartbeatTargets = { voters: true, learners: true }

export function bcastHeartbeat(
  r: Raft,
  context: Uint8Array | undefined,
  targets: HeartbeatTargets = EVERY_PEER,
): void {
  const committedVoters = r.confAt(r.log.committed).voters
  for (const [id, progress] of r.progress) {
    if (id === r.id) continue
    const slow = heartbeatsAsLearner(r, id, committedVoters)
    if (slow ? targets.learners : targets.voters) {
      sendHeartbeat(r, id, progress.match, context ?? EMPTY_BYTES)
    }
  }
}

/**
 * A learner of the appended membership that is no voter of the committed one is heartbeated
 * at the learners' rate. A voter whose removal is uncommitted may still campaign (thesis
 * 4.2.2), and a peer leaving the membership must hear that its removal committed, so both
 * keep the voters' rate; a learner promoted by an appended change gets it at once.
 */
function heartbeatsAsLearner(r: Raft, id: NodeId, committedVoters: readonly NodeId[]): boolean {
  return r.conf.learners.includes(id) && !committedVoters.includes(id)
}

function sendHeartbeat(r: Raft, to: NodeId, match: number, context: Uint8Array): void {
  // Never tell a follower to commit past what it is known to hold.
  const commit = Math.min(match, r.log.committed)
  r.send({ type: 'heartbeat', to, commit, context })
}
