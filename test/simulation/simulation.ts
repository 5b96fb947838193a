// A whole cluster run from one seed: faults for a while, then a healed phase that must elect a
// leader and converge. Any broken property throws a Violation, reported with the seed and the
// run's shape, so `npm run sim -- --seed N` replays the run exactly.
import { RaftInvariantError, SeededRandom } from '../../ledger/raft/index.ts'
import type { ConfState, Entry, Message, ReadState, Ready } from '../../ledger/raft/index.ts'
import { chaosEvents } from './chaos.ts'
import { Checkers, Violation } from './checkers.ts'
import { Clients } from './clients.ts'
import { Network } from './network.ts'
import { CHAOS_TICKS_DEFAULT, describeProfile, drawProfile, drawTickRate } from './profile.ts'
import type { Proposal } from './proposal.ts'
import type { ReplicaOptions } from './replica.ts'
import type { Profile, SimulationOptions } from './profile.ts'
import { healAndConverge } from './heal.ts'
import { LevelDisk, MemoryDisk } from './sim-disk.ts'
import type { SimDisk } from './sim-disk.ts'
import { SimNode } from './sim-node.ts'
import type { SimNodeHost } from './sim-node.ts'

export interface SimulationResult {
  readonly seed: number
  readonly violation: string | undefined
  /** The run's shape in one line (describeProfile), so a failing seed explains itself. */
  readonly profile: string
  /** Ticks from healing to a leader that every live voter follows. */
  readonly electionTicksAfterHeal: number | undefined
  readonly ticks: number
  readonly acknowledged: number
  readonly retries: number
  readonly messages: number
}

export { ELECTION_TIMEOUTS_TO_ELECT_MAX } from './heal.ts'

export function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  return new Simulation(options).run()
}

/** Rounds of landing writes and handling the Readies they unblock, per tick. */
const SETTLE_ROUNDS_MAX = 4

/** Lets every queued promise job and next-tick callback run, in the order they were queued.
 * Nothing here waits on time or I/O: memory-level completes in those jobs alone. */
function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** A transport's word to a snapshot's sender, due at a tick. */
interface SnapshotReport {
  readonly from: string
  readonly to: string
  readonly delivered: boolean
}

export class Simulation implements SimNodeHost {
  readonly seed: number
  readonly random: SeededRandom
  readonly profile: Profile
  readonly checkers = new Checkers()
  readonly network: Network
  readonly nodes = new Map<string, SimNode>()
  readonly clients: Clients
  readonly #options: SimulationOptions
  now = 0
  nextNodeNumber = 1
  healed = false
  /** How far a growing run is along its path of voter counts (chaos.ts). */
  growthStep = 0
  readonly #snapshotReports = new Map<number, SnapshotReport[]>()
  /** Work in flight (writes, reopens), and the first failure among it. */
  readonly #inFlight = new Set<Promise<void>>()
  #failure: { error: unknown } | undefined = undefined
  readonly #levelDisks: LevelDisk[] = []

  constructor(options: SimulationOptions) {
    this.#options = options
    this.seed = options.seed
    this.random = new SeededRandom(options.seed)
    this.profile = drawProfile(this.random)
    this.network = new Network(this.random, { ...this.profile.faults })
    this.clients = new Clients(this)
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

  get replicaOptions(): ReplicaOptions {
    return this.#options.replicaKnobs ?? {}
  }

  /** Proposals in flight and acknowledged, as the healed phase counts them. */
  get acknowledged(): ReadonlySet<string> {
    return this.clients.acknowledged
  }

  #newIds(count: number): string[] {
    const ids: string[] = []
    for (let i = 0; i < count; i++) ids.push(`n${this.nextNodeNumber++}`)
    return ids
  }

  addNode(id: string, founding: ConfState | undefined): SimNode {
    let disk: SimDisk
    if (this.profile.levelStorage) {
      const level = new LevelDisk(founding, { testingKnobs: this.#options.storageKnobs ?? {} })
      this.#levelDisks.push(level)
      disk = level
    } else disk = new MemoryDisk(founding)
    const node = new SimNode(id, disk, this, drawTickRate(this.random, this.profile))
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
      learnerHeartbeatTicks: this.profile.learnerHeartbeatTicks,
      appendBytesMax: this.profile.appendBytesMax,
      inflightMessagesMax: this.profile.inflightMessagesMax,
      uncommittedBytesMax: this.profile.uncommittedBytesMax,
      preVote: this.profile.preVote,
      checkQuorum: this.profile.checkQuorum,
      // A forwarded proposal may be duplicated or retried; the ledger takes it once.
      disableProposalForwarding: !this.profile.proposalForwarding,
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
    this.clients.applied(node, entry, proposal)
  }

  readDone(node: SimNode, read: ReadState): void {
    this.clients.readDone(node, read)
  }

  /** The follower `to` persisted (or let go of) a snapshot from `from`, or crashed holding it:
   * the sender's transport hears so one network delay later, as its stream ends. */
  snapshotReport(from: string, to: string, delivered: boolean): void {
    const at = this.now + 1 + this.random.nextInt(this.network.faults.delayTicksMax)
    const due = this.#snapshotReports.get(at)
    if (due === undefined) this.#snapshotReports.set(at, [{ from, to, delivered }])
    else due.push({ from, to, delivered })
  }

  track(work: Promise<void>): void {
    this.#inFlight.add(work)
    work.then(
      () => this.#inFlight.delete(work),
      (error: unknown) => {
        this.#inFlight.delete(work)
        this.#failure ??= { error }
      },
    )
  }

  /**
   * Lands in-flight writes, several in a drawn order, and handles the Readies they unblock;
   * then rethrows the first failure among them. Only LevelDisk seeds have such work: the
   * others never wait here.
   */
  async settle(): Promise<void> {
    if (this.#levelDisks.length === 0 && this.#inFlight.size === 0) return
    for (let round = 0; round < SETTLE_ROUNDS_MAX; round++) {
      for (const disk of this.#levelDisks) {
        const held = disk.held()
        if (held > 0 && this.random.chance(this.profile.diskLandChance)) {
          this.track(disk.release(this.random.nextInt(held)))
        }
      }
      await drain()
      if (this.#failure !== undefined) throw this.#failure.error
      // Between landings, so no batch moves under the comparison.
      for (const node of this.nodes.values()) if (node.checkDiskDue) await node.checkDisk()
      for (const node of this.#shuffledNodes()) node.processReadies()
      if (this.#levelDisks.every((disk) => disk.held() === 0)) break
    }
  }

  async run(): Promise<SimulationResult> {
    const chaosTicks = this.#options.chaosTicks ?? CHAOS_TICKS_DEFAULT
    let violation: string | undefined
    let elected: number | undefined
    try {
      await this.settle()
      for (; this.now < chaosTicks; this.now++) {
        chaosEvents(this)
        this.step()
        await this.settle()
      }
      elected = await healAndConverge(this)
    } catch (error) {
      if (!(error instanceof Violation || error instanceof RaftInvariantError)) throw error
      violation = `${error.message} (tick ${this.now})`
    }
    return {
      seed: this.seed,
      violation,
      profile: describeProfile(this.profile),
      electionTicksAfterHeal: elected,
      ticks: this.now,
      acknowledged: this.clients.acknowledged.size,
      retries: this.clients.retries,
      messages: this.network.sent,
    }
  }

  /** One tick: time, deliveries, client requests, then every node's Readies. */
  step(): void {
    for (const node of this.nodes.values()) node.tick(this.now)
    for (const message of this.network.due(this.now)) this.#deliver(message)
    for (const report of this.#snapshotReports.get(this.now) ?? []) {
      this.nodes.get(report.from)?.node?.reportSnapshot(report.to, report.delivered)
    }
    this.#snapshotReports.delete(this.now)
    if (!this.healed) {
      const { profile, random } = this
      if (random.chance(profile.propose)) this.clients.propose()
      if (random.chance(profile.read)) this.clients.read()
      if (profile.clientRetry > 0 && random.chance(profile.clientRetry)) this.clients.retry()
    }
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
    const target = this.nodes.get(message.to)
    const lost = this.network.lost(message) || target?.node === undefined
    if (lost) {
      // The transport knows a snapshot's stream broke.
      if (message.type === 'snapshot')
        this.nodes.get(message.from)?.node?.reportSnapshot(message.to, false)
      return
    }
    target?.receive(message)
  }

  leaders(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.node?.status().role === 'leader')
  }

  reachable(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.alive && !node.paused)
  }
}
