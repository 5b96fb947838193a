// A whole cluster run from one seed: faults for a while, then a healed phase that must elect a
// leader and converge. Any broken property throws a Violation, reported with the seed so
// `npm run sim -- --seed N` replays the run exactly.
import { ProposalDroppedError, RaftInvariantError, SeededRandom } from '../../ledger/raft/index.ts'
import type { ConfState, Entry, Message, ReadState, Ready } from '../../ledger/raft/index.ts'
import { chaosEvents } from './chaos.ts'
import { Checkers, Violation } from './checkers.ts'
import { Network } from './network.ts'
import { CHAOS_TICKS_DEFAULT, drawProfile } from './profile.ts'
import { encodeProposal } from './proposal.ts'
import type { Proposal } from './proposal.ts'
import type { Profile, SimulationOptions } from './profile.ts'
import { healAndConverge } from './heal.ts'
import { SimNode } from './sim-node.ts'
import type { SimNodeHost } from './sim-node.ts'
import { Workload } from './workload.ts'

/** Simulated wall time: log time is the proposer's clock, this many ms per tick from an
 * arbitrary epoch, so jobs take a realistic number of ticks. */
const TICK_MS = 100
const LOG_TIME_EPOCH_MS = 1_800_000_000_000

export interface SimulationResult {
  readonly seed: number
  readonly violation: string | undefined
  /** Ticks from healing to a leader that every live voter follows. */
  readonly electionTicksAfterHeal: number | undefined
  readonly ticks: number
  readonly acknowledged: number
  readonly messages: number
}

export { ELECTION_TIMEOUTS_TO_ELECT_MAX } from './heal.ts'

export function runSimulation(options: SimulationOptions): SimulationResult {
  return new Simulation(options).run()
}

export class Simulation implements SimNodeHost {
  readonly seed: number
  readonly random: SeededRandom
  readonly profile: Profile
  readonly checkers = new Checkers()
  readonly network: Network
  readonly nodes = new Map<string, SimNode>()
  readonly #options: SimulationOptions
  now = 0
  nextNodeNumber = 1
  #nextProposal = 1
  readonly #workload: Workload
  #nextRead = 1
  /** Proposals in flight: proposal id to the node it was proposed at. */
  readonly proposed = new Map<string, string>()
  readonly acknowledged = new Set<string>()
  acknowledgedIndexMax = 0
  readonly #reads = new Map<string, number>()
  healed = false

  constructor(options: SimulationOptions) {
    this.#options = options
    this.seed = options.seed
    this.random = new SeededRandom(options.seed)
    this.profile = drawProfile(this.random)
    this.network = new Network(this.random, { ...this.profile.faults })
    this.#workload = new Workload(this.random)
    const voters = this.#newIds(this.profile.voters)
    const learners = this.#newIds(this.profile.learners)
    for (const id of [...voters, ...learners]) this.addNode(id, { voters, learners })
  }

  get snapshotEveryEntries(): number {
    return this.profile.snapshotEveryEntries
  }

  get retainEntries(): number {
    return this.profile.retainEntries
  }

  #newIds(count: number): string[] {
    const ids: string[] = []
    for (let i = 0; i < count; i++) ids.push(`n${this.nextNodeNumber++}`)
    return ids
  }

  addNode(id: string, founding: ConfState | undefined): SimNode {
    const node = new SimNode(id, founding, this)
    this.nodes.set(id, node)
    node.start()
    return node
  }

  newNodeId(): string {
    return `n${this.nextNodeNumber++}`
  }

  config(id: string): ReturnType<SimNodeHost['config']> {
    let seed = this.seed
    for (const char of id) seed = (Math.imul(seed, 31) + char.charCodeAt(0)) >>> 0
    return {
      random: new SeededRandom(seed ^ this.random.nextUint32()),
      electionTicks: this.profile.electionTicks,
      heartbeatTicks: this.profile.heartbeatTicks,
      appendBytesMax: this.profile.appendBytesMax,
      inflightMessagesMax: this.profile.inflightMessagesMax,
      uncommittedBytesMax: this.profile.uncommittedBytesMax,
      // Clients talk to the leader, as Grid-X's coordinator does; forwarding over a lossy,
      // duplicating network could append one proposal twice, which is not a Raft bug.
      disableProposalForwarding: true,
      testingKnobs: this.#options.testingKnobs ?? {},
    }
  }

  crashAfterPersist(node: SimNode, ready: Ready, leader: boolean): boolean {
    // A new leader's first Ready and a leader's commit are where Figure 8 bugs hide.
    const interesting = ready.softState?.role === 'leader' || (leader && ready.hardState?.commit)
    const p = this.profile.crashAfterPersist + (interesting ? this.profile.crashWhenInteresting : 0)
    if (this.healed || !this.random.chance(p)) return false
    const down = [...this.nodes.values()].filter((other) => !other.alive).length
    return down < this.nodes.size - 2 && node.alive
  }

  send(message: Message): void {
    this.network.send(message, this.now)
  }

  applied(node: SimNode, entry: Entry, proposal: Proposal): void {
    if (this.proposed.get(proposal.id) !== node.id) return
    this.proposed.delete(proposal.id)
    this.acknowledged.add(proposal.id)
    this.acknowledgedIndexMax = Math.max(this.acknowledgedIndexMax, entry.index)
  }

  readDone(node: SimNode, read: ReadState): void {
    const key = new TextDecoder().decode(read.context)
    const floor = this.#reads.get(key)
    if (floor === undefined) return
    this.#reads.delete(key)
    if (read.index < floor) {
      this.checkers.fail(`linearizable read: ${node.id} read at ${read.index} < acked ${floor}`)
    }
  }

  run(): SimulationResult {
    const chaosTicks = this.#options.chaosTicks ?? CHAOS_TICKS_DEFAULT
    let violation: string | undefined
    let elected: number | undefined
    try {
      for (; this.now < chaosTicks; this.now++) {
        chaosEvents(this)
        this.step()
      }
      elected = healAndConverge(this)
    } catch (error) {
      if (!(error instanceof Violation || error instanceof RaftInvariantError)) throw error
      violation = `${error.message} (tick ${this.now})`
    }
    return {
      seed: this.seed,
      violation,
      electionTicksAfterHeal: elected,
      ticks: this.now,
      acknowledged: this.acknowledged.size,
      messages: this.network.sent,
    }
  }

  /** One tick: time, deliveries, client requests, then every node's Readies. */
  step(): void {
    for (const node of this.nodes.values()) node.node?.tick()
    for (const message of this.network.due(this.now)) this.#deliver(message)
    if (!this.healed && this.random.chance(this.profile.propose)) this.propose()
    if (!this.healed && this.random.chance(this.profile.read)) this.read()
    for (const node of this.#shuffledNodes()) node.processReadies()
  }

  #shuffledNodes(): SimNode[] {
    const nodes = [...this.nodes.values()]
    for (let i = nodes.length - 1; i > 0; i--) {
      const j = this.random.nextInt(i + 1)
      const swap = nodes[i] as SimNode
      nodes[i] = nodes[j] as SimNode
      nodes[j] = swap
    }
    return nodes
  }

  #deliver(message: Message): void {
    const target = this.nodes.get(message.to)?.node
    const sender = this.nodes.get(message.from)?.node
    const lost = this.network.lost(message) || target === undefined
    if (!lost) target?.step(message)
    // The transport knows whether a snapshot arrived (it streams and acknowledges it).
    if (message.type === 'snapshot') sender?.reportSnapshot(message.to, !lost)
  }

  leaders(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.node?.status().role === 'leader')
  }

  /** Clients propose a batch of ledger commands at a node that believes it leads; the
   * commands are drawn against that node's applied ledger and stamped with its clock. */
  propose(): void {
    const leaders = this.leaders()
    if (leaders.length === 0) return
    const leader = this.random.pick(leaders)
    const logTime = LOG_TIME_EPOCH_MS + this.now * TICK_MS
    const proposals: Proposal[] = []
    const count = 1 + this.random.nextInt(4)
    for (let i = 0; i < count; i++) {
      const command = this.#workload.next(leader.replica.ledger)
      proposals.push({ id: `p${this.#nextProposal++}`, logTime, command })
    }
    try {
      leader.node?.proposeBatch(proposals.map(encodeProposal))
      for (const proposal of proposals) this.proposed.set(proposal.id, leader.id)
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
    }
  }

  /** A linearizable read at a random live node; it must see every acknowledged write. */
  read(): void {
    const live = [...this.nodes.values()].filter((node) => node.alive)
    if (live.length === 0) return
    const key = `r${this.#nextRead++}`
    this.#reads.set(key, this.acknowledgedIndexMax)
    this.random.pick(live).node?.readIndex(new TextEncoder().encode(key))
  }
}
