// The healed phase: faults stop, crashed nodes restart, and the group must elect a leader
// within ten election timeouts, commit a fresh proposal, and converge.
import type { SimNode } from './sim-node.ts'
import type { Simulation } from './simulation.ts'

/** The healed phase must elect a leader within this many election timeouts. */
export const ELECTION_TIMEOUTS_TO_ELECT_MAX = 10
/** Until a fresh proposal commits, some log or commit index must move at least once in this
 * many. A leader may inherit a long backlog from the chaos phase and must replicate all of it
 * before its no-op commits (5.4.2); with one entry per append over a slow link that drains at
 * under one entry a tick, so progress is checked, not a deadline. */
const ELECTION_TIMEOUTS_WITHOUT_PROGRESS_MAX = 10
/** Members that fell far behind (one entry per append, lossy history) catch up within this
 * many; only a bound against hanging, not a performance target. */
const ELECTION_TIMEOUTS_TO_CONVERGE_MAX = 300
/** Once healed, a message arrives on the next tick: a healthy network's broadcast time. */
const HEALED_DELAY_TICKS_MAX = 1

export function healAndConverge(sim: Simulation): number {
  sim.healed = true
  sim.network.heal()
  // A healthy network meets the paper's timing requirement (5.6): broadcast time well under
  // the election timeout. Delays of up to four ticks against a ten-tick spread of randomized
  // timeouts let two equally up-to-date candidates split the vote round after round.
  sim.network.faults = { loss: 0, duplication: 0, delayTicksMax: HEALED_DELAY_TICKS_MAX }
  for (const node of sim.nodes.values()) if (!node.alive) node.start()
  const healedAt = sim.now
  const acknowledgedAtHeal = sim.acknowledged.size
  // Proposals made before healing may still commit or be lost; count only the fresh one.
  sim.proposed.clear()
  let proposedAt = -Infinity
  const electBy = healedAt + ELECTION_TIMEOUTS_TO_ELECT_MAX * sim.profile.electionTicks
  const stallTicksMax = ELECTION_TIMEOUTS_WITHOUT_PROGRESS_MAX * sim.profile.electionTicks
  let progress = progressSum(sim)
  let movedAt = sim.now
  const convergeBy = healedAt + ELECTION_TIMEOUTS_TO_CONVERGE_MAX * sim.profile.electionTicks
  let elected: number | undefined
  for (; sim.now < convergeBy; sim.now++) {
    sim.step()
    const leader = establishedLeader(sim)
    if (leader !== undefined && elected === undefined) elected = sim.now - healedAt
    if (elected === undefined && sim.now >= electBy) {
      sim.checkers.fail(`liveness: no leader ${sim.now - healedAt} ticks after healing`)
    }
    // One fresh write after healing proves the group commits again; a proposal lost with a
    // stale leader is retried every two election timeouts.
    const retryDue = sim.now - proposedAt >= 2 * sim.profile.electionTicks
    if (leader !== undefined && sim.acknowledged.size === acknowledgedAtHeal && retryDue) {
      sim.propose()
      proposedAt = sim.now
    }
    const fresh = sim.acknowledged.size > acknowledgedAtHeal
    const sum = progressSum(sim)
    // Any change counts: a truncated suffix shrinks the sum and is progress too.
    if (sum !== progress) [progress, movedAt] = [sum, sim.now]
    if (!fresh && sim.now - movedAt > stallTicksMax) {
      sim.checkers.fail(`liveness: replication stalled for ${stallTicksMax} ticks`)
    }
    if (leader !== undefined && fresh && converged(sim, leader)) return elected ?? 0
  }
  return sim.checkers.fail('liveness: members did not converge after healing')
}

/** The sum of every node's last and commit index: it changes with any replication. */
function progressSum(sim: Simulation): number {
  let sum = 0
  for (const node of sim.nodes.values()) {
    const status = node.node?.status()
    sum += (status?.commit ?? 0) + (status?.lastIndex ?? 0)
  }
  return sum
}

/** A leader that every live voter of its membership follows in its term. */
function establishedLeader(sim: Simulation): SimNode | undefined {
  for (const candidate of sim.leaders()) {
    const status = candidate.node?.status()
    if (status === undefined) continue
    const follows = status.conf.voters.every((id) => {
      const other = sim.nodes.get(id)?.node?.status()
      return other !== undefined && other.term === status.term && other.leader === candidate.id
    })
    if (follows) return candidate
  }
  return undefined
}

/** Every member applied everything acknowledged and the leader's whole committed log. */
function converged(sim: Simulation, leader: SimNode): boolean {
  const status = leader.node?.status()
  if (status === undefined || status.commit < status.lastIndex) return false
  for (const id of [...status.conf.voters, ...status.conf.learners]) {
    const node = sim.nodes.get(id)
    if (node === undefined || node.appliedIndex < status.commit) return false
  }
  for (const id of [...status.conf.voters, ...status.conf.learners]) {
    const { proposals } = (sim.nodes.get(id) as SimNode).replica
    for (const proposal of sim.acknowledged) {
      if (!proposals.has(proposal)) {
        sim.checkers.fail(`acknowledged ${proposal} missing on ${id} after healing`)
      }
    }
  }
  return true
}
