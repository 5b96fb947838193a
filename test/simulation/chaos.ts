// The faults of the chaos phase, drawn each tick: crashes (more likely while a node holds
// unsynced writes, where bugs hide), restarts, process pauses, partitions of four kinds,
// membership changes (a random walk, or a mesh's growth from one voter to five and back) and
// leadership transfers, all while clients keep proposing.
import { ProposalDroppedError } from '../../ledger/raft/index.ts'
import type { RawNode } from '../../ledger/raft/index.ts'
import type { PartitionKind } from './network.ts'
import { ELECTION_TICKS } from './profile.ts'
import type { SimNode } from './sim-node.ts'
import type { Simulation } from './simulation.ts'

/** Voters a run keeps at least and at most; learners at most. One and two voters are where a
 * mesh starts and where quorum arithmetic has no slack. */
const VOTERS_MIN = 1
const VOTERS_MAX = 6
/** The voter counts a growing mesh passes through, in order, then again. */
const GROWTH_PATH = [1, 3, 5, 3, 1] as const
/** A pause lasts at least one election timeout. */
const PAUSE_TICKS_MIN = ELECTION_TICKS
const LEARNERS_MAX = 2
/** Node ids are never reused, so a run creates at most this many nodes. */
const NODES_CREATED_MAX = 12
/** Extra chance per tick to crash a node with unsynced writes. */
const UNSYNCED_CRASH = 0.05
/** A learner this close to the leader's commit index counts as caught up: under steady
 * proposals it trails by a round trip's worth (hashicorp/raft-autopilot allows 250). */
const CAUGHT_UP_ENTRIES = 16
/** Chance that a growing run promotes a learner that has not caught up: a two-voter cluster
 * then commits nothing until it has, the narrowest spot a mesh passes through. */
const PROMOTE_UNREADY = 0.1
/** Added per tick to a growing run's membership rate, so it walks the whole path in a run. */
const GROWTH_MEMBERSHIP = 0.05

export function chaosEvents(sim: Simulation): void {
  const { random, profile, network } = sim
  const nodes = [...sim.nodes.values()]
  const down = nodes.filter((node) => !node.alive)
  for (const node of nodes) {
    if (!node.alive) {
      if (random.chance(profile.restart)) node.start()
      continue
    }
    const unsynced = node.disk.unsynced
    const p = profile.crash + (unsynced ? UNSYNCED_CRASH : 0)
    if (down.length < nodes.length - 1 && random.chance(p)) {
      node.crash()
      down.push(node)
    } else if (!node.paused && profile.pause > 0 && random.chance(profile.pause)) {
      const ticks = PAUSE_TICKS_MIN + random.nextInt(profile.pauseTicksMax - PAUSE_TICKS_MIN + 1)
      node.pause(sim.now + ticks)
    }
  }
  const leader = sim.leaders()[0]
  if (
    leader !== undefined &&
    down.length < nodes.length - 1 &&
    random.chance(profile.leaderCrash)
  ) {
    leader.crash()
  }
  if (network.partition === undefined && random.chance(profile.partition)) {
    const kind: PartitionKind = random.pick(['symmetric', 'asymmetric', 'bridge', 'isolate'])
    // Isolating a leader (Jepsen's favourite) leaves it with a suffix nobody else has.
    const leader = sim.leaders()[0]?.id
    const others = [...sim.nodes.keys()].filter((id) => id !== leader)
    network.split(kind, leader === undefined ? others : [leader, ...others])
  } else if (network.partition !== undefined && random.chance(profile.partitionHeal)) {
    network.heal()
  }
  if (profile.growth) {
    if (random.chance(profile.membership + GROWTH_MEMBERSHIP)) growMembership(sim)
  } else if (random.chance(profile.membership)) changeMembership(sim)
  if (random.chance(profile.transfer)) transferLeadership(sim)
}

function changeMembership(sim: Simulation): void {
  const leaders = sim.leaders()
  if (leaders.length === 0) return
  const leader = sim.random.pick(leaders)
  const node = leader.node
  if (node === undefined) return
  const { voters, learners } = node.status().conf
  const options: (() => void)[] = []
  if (learners.length < LEARNERS_MAX && sim.nextNodeNumber <= NODES_CREATED_MAX) {
    options.push(() => addLearner(sim, node))
  }
  const learner = learners[0]
  if (learner !== undefined && voters.length < VOTERS_MAX) {
    options.push(() => node.proposeConfChange({ type: 'add-voter', node: learner }))
  }
  if (voters.length > VOTERS_MIN) {
    const voter = sim.random.pick(voters)
    options.push(() => node.proposeConfChange({ type: 'remove-node', node: voter }))
  }
  if (learner !== undefined) {
    options.push(() => node.proposeConfChange({ type: 'remove-node', node: learner }))
  }
  if (options.length === 0) return
  try {
    sim.random.pick(options)()
  } catch (error) {
    if (!(error instanceof ProposalDroppedError)) throw error
  }
}

/**
 * One step of a mesh's growth towards the next size on GROWTH_PATH, the way Grid-X's autopilot
 * takes it: a new peer joins as a learner, is promoted once caught up, one voter at a time;
 * shrinking removes a voter, the leader itself as likely as any other.
 */
function growMembership(sim: Simulation): void {
  const leaders = sim.leaders()
  if (leaders.length === 0) return
  const leader = sim.random.pick(leaders)
  const node = leader.node
  if (node === undefined) return
  const status = node.status()
  const { voters, learners } = status.conf
  let target = GROWTH_PATH[sim.growthStep % GROWTH_PATH.length] as number
  if (voters.length === target) {
    sim.growthStep++
    target = GROWTH_PATH[sim.growthStep % GROWTH_PATH.length] as number
  }
  try {
    if (voters.length > target) {
      node.proposeConfChange({ type: 'remove-node', node: sim.random.pick(voters) })
      return
    }
    const learner = learners[0]
    if (learner === undefined) {
      if (sim.nextNodeNumber <= NODES_CREATED_MAX) addLearner(sim, node)
      return
    }
    // Autopilot promotes a caught-up learner; now and then one that is not, to be sure the
    // core copes with a voter that needs a snapshot first.
    const caughtUp = (status.progress[learner]?.match ?? 0) + CAUGHT_UP_ENTRIES >= status.commit
    if (caughtUp || sim.random.chance(PROMOTE_UNREADY)) {
      node.proposeConfChange({ type: 'add-voter', node: learner })
    }
  } catch (error) {
    if (!(error instanceof ProposalDroppedError)) throw error
  }
}

/** Proposes a new, empty peer as a learner and starts it; it learns the membership from the
 * leader. Its id is taken only once the leader accepts the change, so refused changes do not
 * use up the run's NODES_CREATED_MAX. */
function addLearner(sim: Simulation, node: RawNode): void {
  const id = `n${sim.nextNodeNumber}`
  node.proposeConfChange({ type: 'add-learner', node: id })
  sim.addNode(sim.newNodeId(), undefined)
}

function transferLeadership(sim: Simulation): void {
  const leaders = sim.leaders()
  if (leaders.length === 0) return
  const leader: SimNode = sim.random.pick(leaders)
  const status = leader.node?.status()
  if (status === undefined) return
  const others = status.conf.voters.filter((id) => id !== leader.id)
  if (others.length > 0) leader.node?.transferLeadership(sim.random.pick(others))
}
