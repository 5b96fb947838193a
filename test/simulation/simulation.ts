// A whole cluster run from one seed: faults for a while, then a healed phase that must elect a
// leader and converge. Any broken property throws a Violation, reported with the seed so
// `npm run sim -- --seed N` replays the run exactly.
import { ProposalDroppedError, RaftInvariantError, SeededRandom } from '../../ledger/raft/index.ts'
import type { ConfState, Entry, Message, ReadState, Ready } from '../../ledger/raft/index.ts'
import { ACCOUNTS, MINT, encodeTransfer } from './bank.ts'
import type { Transfer } from './bank.ts'
import { chaosEvents } from './chaos.ts'
import { Checkers, Violation } from './checkers.ts'
import { Network } from './network.ts'
import { CHAOS_TICKS_DEFAULT, drawProfile } from './profile.ts'
import type { Profile, SimulationOptions } from './profile.ts'
import { SimNode } from './sim-node.ts'
import type { SimNodeHost } from './sim-node.ts'

export interface SimulationResult {
  readonly seed: number
  readonly violation: string | undefined
  /** Ticks from healing to a leader that every live voter follows. */
  readonly electionTicksAfterHeal: number | undefined
  readonly ticks: number
  readonly acknowledged: number
  readonly messages: number
}

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
  #nextTransfer = 1
  #nextRead = 1
  /** Proposals in flight: transfer id to the node it was proposed at. */
  readonly #proposed = new Map<string, string>()
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

  applied(node: SimNode, entry: Entry, transfer: Transfer): void {
    if (this.#proposed.get(transfer.id) !== node.id) return
    this.#proposed.delete(transfer.id)
    this.acknowledged.add(transfer.id)
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
        this.#step()
      }
      elected = this.#healAndConverge()
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

  #step(): void {
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

  /** A client proposes a batch of transfers at a node that believes it leads. */
  propose(): void {
    const leaders = this.leaders()
    if (leaders.length === 0) return
    const leader = this.random.pick(leaders)
    const transfers: Transfer[] = []
    const count = 1 + this.random.nextInt(4)
    for (let i = 0; i < count; i++) transfers.push(this.#randomTransfer())
    try {
      leader.node?.proposeBatch(transfers.map(encodeTransfer))
      for (const transfer of transfers) this.#proposed.set(transfer.id, leader.id)
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
    }
  }

  #randomTransfer(): Transfer {
    const from = this.random.chance(0.3) ? MINT : this.random.pick(ACCOUNTS)
    let to = this.random.pick(ACCOUNTS)
    while (to === from) to = this.random.pick(ACCOUNTS)
    return { id: `t${this.#nextTransfer++}`, from, to, amount: 1 + this.random.nextInt(100) }
  }

  /** A linearizable read at a random live node; it must see every acknowledged write. */
  read(): void {
    const live = [...this.nodes.values()].filter((node) => node.alive)
    if (live.length === 0) return
    const key = `r${this.#nextRead++}`
    this.#reads.set(key, this.acknowledgedIndexMax)
    this.random.pick(live).node?.readIndex(new TextEncoder().encode(key))
  }

  #healAndConverge(): number {
    this.healed = true
    this.network.heal()
    this.network.faults = { ...this.network.faults, loss: 0 }
    for (const node of this.nodes.values()) if (!node.alive) node.start()
    const healedAt = this.now
    const acknowledgedAtHeal = this.acknowledged.size
    // Proposals made before healing may still commit or be lost; count only the fresh one.
    this.#proposed.clear()
    let proposedAt = -Infinity
    const electBy = healedAt + ELECTION_TIMEOUTS_TO_ELECT_MAX * this.profile.electionTicks
    const stallTicksMax = ELECTION_TIMEOUTS_WITHOUT_PROGRESS_MAX * this.profile.electionTicks
    let progress = this.#progressSum()
    let movedAt = this.now
    const convergeBy = healedAt + ELECTION_TIMEOUTS_TO_CONVERGE_MAX * this.profile.electionTicks
    let elected: number | undefined
    for (; this.now < convergeBy; this.now++) {
      this.#step()
      const leader = this.#establishedLeader()
      if (leader !== undefined && elected === undefined) elected = this.now - healedAt
      if (elected === undefined && this.now >= electBy) {
        this.checkers.fail(`liveness: no leader ${this.now - healedAt} ticks after healing`)
      }
      // One fresh write after healing proves the group commits again; a proposal lost with a
      // stale leader is retried every two election timeouts.
      const retryDue = this.now - proposedAt >= 2 * this.profile.electionTicks
      if (leader !== undefined && this.acknowledged.size === acknowledgedAtHeal && retryDue) {
        this.propose()
        proposedAt = this.now
      }
      const fresh = this.acknowledged.size > acknowledgedAtHeal
      const sum = this.#progressSum()
      // Any change counts: a truncated suffix shrinks the sum and is progress too.
      if (sum !== progress) [progress, movedAt] = [sum, this.now]
      if (!fresh && this.now - movedAt > stallTicksMax) {
        this.checkers.fail(`liveness: replication stalled for ${stallTicksMax} ticks`)
      }
      if (leader !== undefined && fresh && this.#converged(leader)) return elected ?? 0
    }
    return this.checkers.fail('liveness: members did not converge after healing')
  }

  /** The sum of every node's last and commit index: it changes with any replication. */
  #progressSum(): number {
    let sum = 0
    for (const node of this.nodes.values()) {
      const status = node.node?.status()
      sum += (status?.commit ?? 0) + (status?.lastIndex ?? 0)
    }
    return sum
  }

  /** A leader that every live voter of its membership follows in its term. */
  #establishedLeader(): SimNode | undefined {
    for (const candidate of this.leaders()) {
      const status = candidate.node?.status()
      if (status === undefined) continue
      const follows = status.conf.voters.every((id) => {
        const other = this.nodes.get(id)?.node?.status()
        return other !== undefined && other.term === status.term && other.leader === candidate.id
      })
      if (follows) return candidate
    }
    return undefined
  }

  /** Every member applied everything acknowledged and the leader's whole committed log. */
  #converged(leader: SimNode): boolean {
    const status = leader.node?.status()
    if (status === undefined || status.commit < status.lastIndex) return false
    for (const id of [...status.conf.voters, ...status.conf.learners]) {
      const node = this.nodes.get(id)
      if (node === undefined || node.appliedIndex < status.commit) return false
    }
    for (const id of [...status.conf.voters, ...status.conf.learners]) {
      const bank = (this.nodes.get(id) as SimNode).bank
      for (const transfer of this.acknowledged) {
        if (!bank.applied.has(transfer)) {
          this.checkers.fail(`acknowledged ${transfer} missing on ${id} after healing`)
        }
      }
    }
    return true
  }
}
