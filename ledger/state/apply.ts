// The state machine's one entry point. Deterministic: the same entries applied in the same
// order to the same state give the same state and results on every replica.
import { isFinalJobState } from '../../protocol/index.ts'
import { isSystemAccount, openAccount } from './accounts.ts'
import { assert } from './assert.ts'
import { assignJob, cancelJob, expireJob, finishJob, lostJob, startJob, submitJob } from './jobs.ts'
import {
  admit as admitPeer,
  genesis,
  peerAddress,
  removePeer,
  rotateOwnerSecret,
  rotateSecret,
} from './mesh.ts'
import { cancelParent, submitParent } from './parents.ts'
import { closeRoundAtDeadline } from './training.ts'
import { submitTraining } from './training-submit.ts'
import { admit, expireSessions, isSession, remember } from './proposals.ts'
import { fail, ok } from './result.ts'
import type { ApplyResult, Command, Entry, State } from './types.ts'

/** Applies one committed entry. Entries must come in index order with no gap. A proposal
 * applied before changes nothing and gets an answer marked `replayed` (see proposals.ts). */
export function apply(state: State, entry: Entry): ApplyResult {
  assert(
    entry.index === state.appliedIndex + 1,
    `entry ${entry.index} applied after ${state.appliedIndex}`,
  )
  state.appliedIndex = entry.index
  state.changedJobs.clear()
  // Log time is stamped by the coordinator; a new coordinator's clock may lag, so never go back.
  state.logTime = Math.max(state.logTime, entry.logTime)
  expireSessions(state)
  const session = admit(state, entry.proposal)
  if (!isSession(session)) return session
  const result = dispatch(state, entry.command)
  remember(session, entry.proposal, result)
  return result
}

/** Advances the applied index over a log entry that carries no command (a Raft no-op or a
 * membership change): the ledger's index is the Raft index. */
export function skipEntry(state: State, index: number): void {
  assert(index === state.appliedIndex + 1, `entry ${index} skipped after ${state.appliedIndex}`)
  state.appliedIndex = index
  state.changedJobs.clear()
}

function dispatch(state: State, command: Command): ApplyResult {
  switch (command.type) {
    case 'account.open':
      return ok(openAccount(state, command.account))
    case 'executor.register':
      // Pay goes to the owner's account: one never opened would be created without its grant.
      if (!state.accounts.has(command.owner) || isSystemAccount(command.owner)) {
        return fail('NOT_FOUND', `no account ${command.owner} to own executor ${command.peer}`)
      }
      state.executors.set(command.peer, { peer: command.peer, owner: command.owner })
      return ok(null)
    case 'job.submit':
      return submitJob(state, command)
    case 'job.assign':
      return assignJob(state, command)
    case 'job.start':
      return startJob(state, command)
    case 'job.finish':
      return finishJob(state, command)
    case 'job.lost':
      return lostJob(state, command)
    case 'job.cancel':
      return cancelJob(state, command)
    case 'job.expire':
      return expireJob(state, command)
    case 'parent.submit':
      return submitParent(state, command)
    case 'parent.cancel':
      return cancelParent(state, command)
    case 'training.submit':
      return submitTraining(state, command)
    case 'training.close-round':
      return closeRoundAtDeadline(state, command)
    case 'policy.set':
      state.policy = command.policy
      return ok(null)
    case 'mesh.genesis':
      return genesis(state, command)
    case 'mesh.rotate-secret':
      return rotateSecret(state, command)
    case 'mesh.rotate-owner-secret':
      return rotateOwnerSecret(state, command)
    case 'peer.admit':
      return admitPeer(state, command)
    case 'peer.address':
      return peerAddress(state, command)
    case 'peer.remove':
      return removePeer(state, command)
    default:
      return fail('INVALID_REQUEST', `unknown command ${(command as { type: string }).type}`)
  }
}

/** Unsettled jobs: everything that still holds an escrow or a place in the queue. */
export function activeJobs(state: State): number {
  let count = 0
  for (const job of state.jobs.values()) if (!isFinalJobState(job.state)) count++
  return count
}
