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
/** A converged leader that keeps leading answers its pending reads within this many election
 * timeouts: a heartbeat round, with room to spare. */
const READ_ANSWER_ELECTION_TIMEOUTS_MAX = 2
/** Once healed, a message arrives on the next tick: a healthy network's broadcast time. */
const HEALED_DELAY_TICKS_MAX = 1

export async function healAndConverge(sim: Simulation): Promise<number> {
  sim.healed = true
  sim.network.heal()
  // A healthy network meets the paper's timing requirement (5.6): broadcast time well under
  // the election timeout. Delays of up to four ticks against a ten-tick spread of randomized
  // timeouts let two equally up-to-date candidates split the vote round after round.
  // Messages already held long still arrive late: a healed network does not recall them.
  sim.network.faults = {
    loss: 0,
    duplication: 0,
    delayTicksMax: HEALED_DELAY_TICKS_MAX,
    longDelay: 0,
    longDelayTicksMax: 0,
  }
  for (const node of sim.nodes.values()) {
    if (!node.alive) node.start()
    else if (node.paused) node.resume()
  }
  const healedAt = sim.now
  const acknowledgedAtHeal = sim.acknowledged.size
  // Proposals made before healing may still commit or be lost; count only the fresh one.
  sim.clients.outstanding.clear()
  let proposedAt = -Infinity
  // An election timeout lasts longer on a slow clock: the bound is in the slowest one's.
  const slowest = Math.min(...[...sim.nodes.values()].map((node) => node.tickRate))
  const electBy =
    healedAt + Math.ceil((ELECTION_TIMEOUTS_TO_ELECT_MAX * sim.profile.electionTicks) / slowest)
  const reads = new LeaderReads(sim)
  // In the slowest clock's ticks too: until a leader exists nothing moves, and a bound shorter
  // than `electBy` would report a slow election as stalled replication.
  const stallTicksMax = Math.ceil(
    (ELECTION_TIMEOUTS_WITHOUT_PROGRESS_MAX * sim.profile.electionTicks) / slowest,
  )
  let progress = progressSum(sim)
  let movedAt = sim.now
  const convergeBy = healedAt + ELECTION_TIMEOUTS_TO_CONVERGE_MAX * sim.profile.electionTicks
  let elected: number | undefined
  for (; sim.now < convergeBy; sim.now++) {
    sim.step()
    await sim.settle()
    const leader = establishedLeader(sim)
    if (leader !== undefined && elected === undefined) elected = sim.now - healedAt
    reads.askNewLeaders()
    if (elected === undefined && sim.now >= electBy) {
      sim.checkers.fail(`liveness: no leader ${sim.now - healedAt} ticks after healing`)
    }
    // One fresh write after healing proves the group commits again; a proposal lost with a
    // stale leader is retried every two election timeouts.
    const retryDue = sim.now - proposedAt >= 2 * sim.profile.electionTicks
    if (leader !== undefined && sim.acknowledged.size === acknowledgedAtHeal && retryDue) {
      // At the leader: a removed node the client might pick instead has no leader to forward to.
      sim.clients.propose(leader)
      proposedAt = sim.now
    }
    const fresh = sim.acknowledged.size > acknowledgedAtHeal
    const sum = progressSum(sim)
    // Any change counts: a truncated suffix shrinks the sum and is progress too.
    if (sum !== progress) [progress, movedAt] = [sum, sim.now]
    if (!fresh && sim.now - movedAt > stallTicksMax) {
      sim.checkers.fail(`liveness: replication stalled for ${stallTicksMax} ticks`)
    }
    if (leader !== undefined && fresh && converged(sim, leader)) {
      await reads.awaitAnswers()
      return elected ?? 0
    }
  }
  return sim.checkers.fail('liveness: members did not converge after healing')
}

/**
 * A read at every new leader as soon as it leads, before its no-op can have committed: a
 * leader that keeps leading must answer it (etcd queues such reads until the no-op commits;
 * dropping them leaves the client waiting on a healthy cluster).
 */
class LeaderReads {
  readonly #sim: Simulation
  /** `${id}@${term}` to the read's context. */
  readonly #asked = new Map<string, string>()

  constructor(sim: Simulation) {
    this.#sim = sim
  }

  askNewLeaders(): void {
    for (const leader of this.#sim.leaders()) {
      const term = leader.node?.status().term
      const key = `${leader.id}@${term}`
      if (this.#asked.has(key)) continue
      const read = this.#sim.clients.read(leader)
      if (read !== undefined) this.#asked.set(key, read)
    }
  }

  /** Steps on until every read asked of a leader that still leads its term is answered; a
   * leader that converged has committed its no-op, so only a heartbeat round remains. */
  async awaitAnswers(): Promise<void> {
    const sim = this.#sim
    const until = sim.now + READ_ANSWER_ELECTION_TIMEOUTS_MAX * sim.profile.electionTicks
    for (;;) {
      const unanswered = this.#unanswered()
      if (unanswered === undefined) return
      if (sim.now >= until) {
        sim.checkers.fail(`liveness: ${unanswered} never answered the read it got as it won`)
      }
      sim.now++
      sim.step()
      await sim.settle()
    }
  }

  #unanswered(): string | undefined {
    for (const leader of this.#sim.leaders()) {
      const key = `${leader.id}@${leader.node?.status().term}`
      const read = this.#asked.get(key)
      if (read !== undefined && this.#sim.clients.pendingRead(read)) return key
    }
    return undefined
  }
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
