// A seeded random walk over clusters founded by one or two voters that grow and shrink through
// membership changes while leaders change: the paths of issue 8's bugs (a lone voter's reads,
// a removed leader, early reads). Faults: loss, duplication, delay, cut links, and crashes
// that keep only synced writes; snapshots taken as a driver takes them. Checks: one durable leader per term, one entry per applied
// index, reads that see every write applied before they were asked for, and, once the network
// heals, a leader that commits again.
import { ProposalDroppedError, SeededRandom } from '../../../ledger/raft/index.ts'
import type { ConfChange, Message, RawNode, TestingKnobs } from '../../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/raft-memory-storage.ts'
import { Harness, bytes } from './harness.ts'

const IDS = ['1', '2', '3', '4']
/** Steps of faults before the heal: enough for dozens of conf changes and leader changes. */
const STEPS = 1500
/**
 * Ticks after the heal within which a leader must commit: eighty election timeouts. Without
 * PreVote a voter that can never win (the others reject its stale log) keeps taking each new
 * term first, and the peer that can win must time out before it by chance; in 20,000 seeds
 * the slowest (6362, PreVote off) took between forty and eighty timeouts.
 */
const HEAL_TICKS = 800
const CHANGES: readonly ConfChange['type'][] = ['add-learner', 'add-voter', 'remove-node']

export interface WalkResult {
  readonly seed: number
  /** What went wrong, or undefined for a clean walk. */
  readonly violation: string | undefined
}

class Violation extends Error {
  override name = 'Violation'
}

class Walk {
  readonly #random: SeededRandom
  readonly #h: Harness
  readonly #decoder = new TextDecoder()
  readonly #leaders = new Map<number, string>()
  readonly #applied = new Map<number, string>()
  readonly #writes = new Set<string>()
  /** Per read context: the highest write index some peer had applied when it was asked. */
  readonly #reads = new Map<string, number>()
  #appliedWriteMax = 0
  #next = 0

  constructor(seed: number, knobs: TestingKnobs) {
    this.#random = new SeededRandom(seed)
    const voters = this.#random.chance(0.5) ? ['1'] : ['1', '2']
    this.#h = new Harness(voters, {
      preVote: this.#random.chance(0.7),
      checkQuorum: this.#random.chance(0.7),
      testingKnobs: knobs,
    })
    for (const id of IDS) if (!voters.includes(id)) this.#h.addPeer(id, new MemoryRaftStorage())
  }

  step(): void {
    const roll = this.#random.nextInt(100)
    const id = this.#random.pick(IDS)
    if (roll < 35) this.#deliver()
    else if (roll < 45) for (const each of IDS) this.#h.node(each).tick()
    else if (roll < 55) this.#h.node(id).tick()
    else if (roll < 67) this.#onLeader((leader) => leader.propose(bytes(`w${this.#next++}`)))
    else if (roll < 74) this.#changeMembership()
    else if (roll < 76) this.#onLeader((leader) => leader.transferLeadership(id))
    else if (roll < 78) this.#h.crash(id)
    else if (roll < 90) this.#read(id)
    else if (roll < 92) this.#h.cut.add(`${id}->${this.#random.pick(IDS)}`)
    else if (roll < 95) this.#h.heal()
    else if (roll < 98) this.#compact(id)
    for (const peer of IDS) if (this.#random.chance(0.7)) this.#processReady(peer)
  }

  /** Heals the network, then requires a leader that commits a write within HEAL_TICKS. */
  heal(): string | undefined {
    this.#h.heal()
    const marker = `final-${this.#next}`
    for (let tick = 0; tick < HEAL_TICKS; tick++) {
      for (const id of IDS) this.#h.node(id).tick()
      this.#settle()
      if (this.#writes.has(marker)) return undefined
      this.#onLeader((leader) => leader.propose(bytes(marker)))
    }
    return `no leader committed within ${HEAL_TICKS} ticks of the heal: ${this.#describe()}`
  }

  #describe(): string {
    return [...this.#h.peers.keys()]
      .map((id) => {
        const s = this.#h.node(id).status()
        const voters = s.conf.voters.join(',')
        return `${id} ${s.role} term=${s.term} commit=${s.commit} last=${s.lastIndex} voters=${voters}`
      })
      .join('; ')
  }

  #settle(): void {
    for (let round = 0; round < 100; round++) {
      let moved = false
      for (const id of IDS) moved = this.#processReady(id) || moved
      const batch = this.#h.queue
      this.#h.queue = []
      for (const m of batch) this.#stepInto(m)
      if (!moved && batch.length === 0) return
    }
  }

  /** Each queued message is delayed (20 %), lost (5 %) or delivered, and sometimes doubled. */
  #deliver(): void {
    const batch = this.#h.queue
    this.#h.queue = []
    for (const m of batch) {
      if (this.#random.chance(0.2)) this.#h.queue.push(m)
      else if (!this.#random.chance(0.05)) this.#stepInto(m)
      else this.#reportSnapshot(m, false)
      if (this.#random.chance(0.02)) this.#h.queue.push(m)
    }
  }

  #stepInto(m: Message): void {
    const lost = this.#h.cut.has(`${m.from}->${m.to}`)
    if (!lost) this.#h.peers.get(m.to)?.node.step(m)
    this.#reportSnapshot(m, !lost)
  }

  /** The transport's word on a snapshot, as the driver gives it (RawNode.reportSnapshot). */
  #reportSnapshot(m: Message, delivered: boolean): void {
    if (m.type === 'snapshot') this.#h.peers.get(m.from)?.node.reportSnapshot(m.to, delivered)
  }

  #onLeader(action: (leader: RawNode) => void): void {
    const leader = this.#h.leader()
    if (leader === undefined) return
    try {
      action(this.#h.node(leader))
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
    }
  }

  #changeMembership(): void {
    const change = { type: this.#random.pick(CHANGES), node: this.#random.pick(IDS) }
    this.#onLeader((leader) => leader.proposeConfChange(change))
  }

  /** Snapshots what `id` applied, with the membership as of it, as a driver does. */
  #compact(id: string): void {
    const peer = this.#h.peer(id)
    const { applied, appliedConf } = peer.node.status()
    if (applied < peer.storage.firstIndex()) return
    const metadata = { index: applied, term: peer.storage.term(applied), confState: appliedConf }
    peer.storage.compactSync({ metadata, data: new Uint8Array(0) }, this.#random.nextInt(4))
  }

  #read(id: string): void {
    const context = `r${this.#next++}`
    this.#reads.set(context, this.#appliedWriteMax)
    this.#h.node(id).readIndex(bytes(context))
  }

  #processReady(id: string): boolean {
    const peer = this.#h.peer(id)
    if (!peer.node.hasReady()) return false
    const ready = peer.node.ready()
    this.#h.processReadyFrom(id, ready)
    // The harness drops what goes out on a cut link at once.
    for (const m of ready.messages) {
      if (this.#h.cut.has(`${m.from}->${m.to}`)) this.#reportSnapshot(m, false)
    }
    peer.applied.length = 0
    peer.readStates.length = 0
    // A leader counts once its term and vote are durable: one that crashed before its Ready
    // was persisted was never a leader to anyone.
    this.#checkLeader(id)
    for (const entry of ready.committedEntries) {
      const data = this.#decoder.decode(entry.data)
      const key = `${entry.term}/${entry.type}/${data}`
      const seen = this.#applied.get(entry.index)
      if (seen !== undefined && seen !== key) {
        throw new Violation(`${id} applied ${key} at ${entry.index}, another peer ${seen}`)
      }
      this.#applied.set(entry.index, key)
      if (entry.type === 'normal' && data !== '') {
        this.#writes.add(data)
        this.#appliedWriteMax = Math.max(this.#appliedWriteMax, entry.index)
      }
    }
    for (const state of ready.readStates) {
      const context = this.#decoder.decode(state.context)
      const mustSee = this.#reads.get(context) ?? 0
      if (state.index < mustSee) {
        throw new Violation(
          `${id} served ${context} at ${state.index}, below a write at ${mustSee}`,
        )
      }
    }
    return true
  }

  #checkLeader(id: string): void {
    const status = this.#h.node(id).status()
    if (status.role !== 'leader') return
    const other = this.#leaders.get(status.term)
    if (other !== undefined && other !== id) {
      throw new Violation(`two leaders in term ${status.term}: ${other} and ${id}`)
    }
    this.#leaders.set(status.term, id)
  }
}

/** Walks one seed: STEPS random steps, then the heal. The same seed walks the same way. */
export function walk(seed: number, knobs: TestingKnobs = {}): WalkResult {
  const w = new Walk(seed, knobs)
  try {
    for (let i = 0; i < STEPS; i++) w.step()
    return { seed, violation: w.heal() }
  } catch (error) {
    if (error instanceof Violation) return { seed, violation: error.message }
    throw error
  }
}

/** The walks of seeds first..first+count-1 that found something. */
export function walkSeeds(first: number, count: number, knobs: TestingKnobs = {}): WalkResult[] {
  const found: WalkResult[] = []
  for (let seed = first; seed < first + count; seed++) {
    const result = walk(seed, knobs)
    if (result.violation !== undefined) found.push(result)
  }
  return found
}
