// Membership for the mesh's wiring: bootstrap a new mesh, add learners, promote and remove
// members (one change at a time, through the core's proposeConfChange), and hand leadership
// over on a graceful stop. Each call retries what the core drops (another change pending, no
// leader yet) every election timeout and fails with NoLeaderError at its timeout.
import { PROPOSAL_TIMEOUT_MS_DEFAULT } from '../../protocol/index.ts'
import { ProposalDroppedError, bootstrapState } from '../raft/index.ts'
import type { ConfChange, ConfState, NodeId, RaftStorage } from '../raft/index.ts'
import { NoLeaderError } from './errors.ts'
import type { RaftDriver } from './raft-driver.ts'

/** Makes `storage` the log of a new mesh whose only voter is `voter`, unless it already holds
 * a log. A peer that joins a mesh starts instead with an empty log, as a learner the leader
 * adds and catches up (by snapshot when the log it needs is compacted). */
export async function bootstrapStorage(storage: RaftStorage, voter: NodeId): Promise<boolean> {
  if (storage.lastIndex() > 0 || storage.initialState().hardState.term > 0) return false
  const boot = bootstrapState({ voters: [voter], learners: [] })
  await storage.save({ ...boot, snapshot: undefined }, { sync: true })
  return true
}

/** Whether `conf` already reflects `change`. */
function changed(conf: ConfState, change: ConfChange): boolean {
  switch (change.type) {
    case 'add-voter':
      return conf.voters.includes(change.node)
    case 'add-learner':
      return conf.learners.includes(change.node)
    case 'remove-node':
      return !conf.voters.includes(change.node) && !conf.learners.includes(change.node)
  }
}

/** Proposes one membership change and resolves once this peer has applied it. */
export function changeMembership(
  driver: RaftDriver,
  change: ConfChange,
  timeoutMs = PROPOSAL_TIMEOUT_MS_DEFAULT,
): Promise<void> {
  let proposedAt = Number.NEGATIVE_INFINITY
  return until(driver, timeoutMs, () => {
    if (changed(driver.status().appliedConf, change)) return true
    if (driver.ticks - proposedAt >= driver.retryTicks && !changed(driver.status().conf, change)) {
      try {
        driver.node.proposeConfChange(change)
        proposedAt = driver.ticks
        driver.schedule()
      } catch (error) {
        if (!(error instanceof ProposalDroppedError)) throw error
      }
    }
    return false
  })
}

/** Asks the leader to hand leadership to `target`; resolves once `target` leads. */
export function transferLeadership(
  driver: RaftDriver,
  target: NodeId,
  timeoutMs = PROPOSAL_TIMEOUT_MS_DEFAULT,
): Promise<void> {
  let askedAt = Number.NEGATIVE_INFINITY
  return until(driver, timeoutMs, () => {
    if (driver.status().leader === target) return true
    if (driver.ticks - askedAt >= driver.retryTicks) {
      driver.node.transferLeadership(target)
      askedAt = driver.ticks
      driver.schedule()
    }
    return false
  })
}

function until(driver: RaftDriver, timeoutMs: number, done: () => boolean): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>()
  let settled = false
  const timer = setTimeout(() => {
    settled = true
    reject(new NoLeaderError(timeoutMs))
  }, timeoutMs)
  driver.untilTurn(() => {
    if (settled) return true
    if (!done()) return false
    settled = true
    clearTimeout(timer)
    resolve()
    return true
  })
  return promise
}

/** On a graceful stop of the leader: hands leadership to the voter furthest along, so that a
 * planned restart has no election gap. Resolves at once when this peer does not lead or is the
 * only voter. */
export async function stepDown(
  driver: RaftDriver,
  timeoutMs = PROPOSAL_TIMEOUT_MS_DEFAULT,
): Promise<void> {
  const status = driver.status()
  if (status.role !== 'leader') return
  const others = status.conf.voters.filter((voter) => voter !== status.id)
  const target = others.sort(
    (a, b) => (status.progress[b]?.match ?? 0) - (status.progress[a]?.match ?? 0),
  )[0]
  if (target === undefined) return
  await transferLeadership(driver, target, timeoutMs)
}
