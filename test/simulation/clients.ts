// The clients of a simulated cluster: they propose ledger commands, time out and retry with the
// same proposal id, and issue linearizable reads. A client's acknowledgement means the node it
// last sent to applied the proposal, as Grid-X's API answers once committed and applied.
import { ProposalDroppedError } from '../../ledger/raft/index.ts'
import type { Entry, ReadState, SeededRandom } from '../../ledger/raft/index.ts'
import type { Checkers } from './checkers.ts'
import type { Profile } from './profile.ts'
import { encodeProposal } from './proposal.ts'
import type { Proposal } from './proposal.ts'
import type { SimNode } from './sim-node.ts'
import { Workload } from './workload.ts'

/** Simulated wall time: log time is the proposer's clock, this many ms per tick from an
 * arbitrary epoch, so jobs take a realistic number of ticks. */
const TICK_MS = 100
const LOG_TIME_EPOCH_MS = 1_800_000_000_000
/** A client gives up on a proposal after this many attempts: its outcome stays unknown. */
const ATTEMPTS_MAX = 4
/** Acknowledged proposals a client may still resend (its answer lost on the way back). */
const ACKNOWLEDGED_RETRY_WINDOW = 64
/** Share of retries that resend an acknowledged proposal rather than an unanswered one. */
const ACKNOWLEDGED_RETRY_SHARE = 0.25

interface Outstanding {
  readonly proposal: Proposal
  /** The node the client last sent to: only its answer reaches the client. */
  node: string
  sentAt: number
  attempts: number
}

export interface ClientHost {
  readonly random: SeededRandom
  readonly profile: Profile
  readonly checkers: Checkers
  readonly now: number
  leaders(): SimNode[]
  /** Nodes a client can reach now: alive and not paused. */
  reachable(): SimNode[]
}

export class Clients {
  readonly #host: ClientHost
  readonly #workload: Workload
  #nextProposal = 1
  #nextRead = 1
  /** Proposals sent and not yet answered, oldest first. */
  readonly outstanding = new Map<string, Outstanding>()
  readonly acknowledged = new Set<string>()
  readonly #recentlyAcknowledged: Proposal[] = []
  acknowledgedIndexMax = 0
  /** Reads in flight: context to the acknowledged index they must at least see. */
  readonly #reads = new Map<string, number>()
  retries = 0

  constructor(host: ClientHost) {
    this.#host = host
    this.#workload = new Workload(host.random)
  }

  /** Where a client sends: a leader, or with forwarding any reachable node. */
  #target(): SimNode | undefined {
    const host = this.#host
    const candidates = host.profile.proposalForwarding
      ? host.reachable()
      : host.leaders().filter((node) => host.reachable().includes(node))
    return candidates.length === 0 ? undefined : host.random.pick(candidates)
  }

  /** Clients propose a batch of ledger commands; the commands are drawn against the target's
   * applied ledger (a follower's may lag) and stamped with the simulated clock. */
  propose(at?: SimNode): void {
    const target = at ?? this.#target()
    if (target === undefined) return
    const logTime = LOG_TIME_EPOCH_MS + this.#host.now * TICK_MS
    const proposals: Proposal[] = []
    const count = 1 + this.#host.random.nextInt(4)
    for (let i = 0; i < count; i++) {
      const command = this.#workload.next(target.replica.ledger)
      proposals.push({ id: `p${this.#nextProposal++}`, proposedAt: logTime, logTime, command })
    }
    this.#send(target, proposals)
    for (const proposal of proposals) {
      this.outstanding.set(proposal.id, {
        proposal,
        node: target.id,
        sentAt: this.#host.now,
        attempts: 1,
      })
    }
  }

  /** A client that timed out sends its proposal again with the same id, now and then also
   * one already acknowledged whose answer it never got. */
  retry(): void {
    const host = this.#host
    const acknowledged = this.#recentlyAcknowledged
    if (acknowledged.length > 0 && host.random.chance(ACKNOWLEDGED_RETRY_SHARE)) {
      const target = this.#target()
      if (target === undefined) return
      this.retries++
      this.#send(target, [this.#restamped(host.random.pick(acknowledged))])
      return
    }
    for (const [id, waiting] of this.outstanding) {
      if (host.now - waiting.sentAt < host.profile.clientTimeoutTicks) break
      this.outstanding.delete(id)
      if (waiting.attempts >= ATTEMPTS_MAX) continue
      const target = this.#target()
      if (target === undefined) return
      this.retries++
      this.#send(target, [this.#restamped(waiting.proposal)])
      // Re-inserted, so the map stays ordered by the time of the last attempt.
      this.outstanding.set(id, {
        ...waiting,
        node: target.id,
        sentAt: host.now,
        attempts: waiting.attempts + 1,
      })
      return
    }
  }

  /** The same request sent again: same id, first stamp and command; only the log time of
   * this attempt is new. */
  #restamped(proposal: Proposal): Proposal {
    return { ...proposal, logTime: LOG_TIME_EPOCH_MS + this.#host.now * TICK_MS }
  }

  #send(target: SimNode, proposals: readonly Proposal[]): void {
    // A node that knows no leader refuses at once: skipped here, since building the error's
    // stack for every such attempt cost a few percent of a run.
    const status = target.node?.status()
    if (status === undefined || (status.role !== 'leader' && status.leader === '')) return
    try {
      target.node?.proposeBatch(proposals.map(encodeProposal))
    } catch (error) {
      // No leader known: the client hears nothing and times out, as over a real network.
      if (!(error instanceof ProposalDroppedError)) throw error
    }
  }

  /** A node applied a proposal: the client that last sent it there hears it took effect. */
  applied(node: SimNode, entry: Entry, proposal: Proposal): void {
    if (this.outstanding.get(proposal.id)?.node !== node.id) return
    this.outstanding.delete(proposal.id)
    this.acknowledged.add(proposal.id)
    this.#recentlyAcknowledged.push(proposal)
    if (this.#recentlyAcknowledged.length > ACKNOWLEDGED_RETRY_WINDOW) {
      this.#recentlyAcknowledged.shift()
    }
    this.acknowledgedIndexMax = Math.max(this.acknowledgedIndexMax, entry.index)
  }

  /** A linearizable read at a random reachable node; it must see every acknowledged write.
   * Returns its context, so the healed phase can require an answer. */
  read(at?: SimNode): string | undefined {
    const reachable = this.#host.reachable()
    const node = at ?? (reachable.length === 0 ? undefined : this.#host.random.pick(reachable))
    if (node === undefined) return undefined
    const key = `r${this.#nextRead++}`
    this.#reads.set(key, this.acknowledgedIndexMax)
    node.node?.readIndex(new TextEncoder().encode(key))
    return key
  }

  /** Whether the read with this context is still unanswered. */
  pendingRead(key: string): boolean {
    return this.#reads.has(key)
  }

  readDone(node: SimNode, read: ReadState): void {
    const key = new TextDecoder().decode(read.context)
    const floor = this.#reads.get(key)
    if (floor === undefined) return
    this.#reads.delete(key)
    if (read.index < floor) {
      this.#host.checkers.fail(
        `linearizable read: ${node.id} read at ${read.index} < acked ${floor}`,
      )
    }
  }
}
