// The one Raft driver (DESIGN section 3): a RawNode over a RaftStorage, ticked by a Ticker,
// talking through a RaftTransport, applying committed entries to the ledger's state. Each turn
// keeps the core's order: persist (one write through the storage's ordered queue, synced when
// the Ready says so), then send, then apply, then advance. Proposals made while a turn runs go
// into the next one as one batch: one append, one fsync.
//
// Log time: the proposer stamps each entry with its clock (never below the log time it has
// applied); apply keeps the largest stamp, so log time never goes back however clocks differ.
import {
  PROPOSAL_TIMEOUT_MS_DEFAULT,
  RAFT_ELECTION_TICKS_DEFAULT,
  RAFT_HEARTBEAT_TICKS_DEFAULT,
  RAFT_LEARNER_HEARTBEAT_TICKS_DEFAULT,
} from '../../protocol/index.ts'
import type { Clock } from '../clock.ts'
import type { RaftTransport } from '../raft-transport.ts'
import { RawNode, SeededRandom } from '../raft/index.ts'
import type { Message, NodeId, RaftStorage, RandomSource, Ready, Status } from '../raft/index.ts'
import type { ApplyResult, Command, ProposalId, State } from '../state/index.ts'
import { DriverStoppedError, NotCoordinatorError } from './errors.ts'
import { LedgerMachine } from './ledger-machine.ts'
import type { AppliedListener, SnapshotPolicy } from './ledger-machine.ts'
import { ProposalQueue } from './proposal-queue.ts'
import { ReadQueue } from './read-queue.ts'
import type { Ticker } from './ticker.ts'

export interface RaftDriverInit {
  readonly id: NodeId
  /** Owned by the driver from start() on: stop() closes it. */
  readonly storage: RaftStorage & { close(): Promise<void> }
  readonly transport: RaftTransport
  readonly ticker: Ticker
  readonly clock: Clock
  /** Names this driver's proposer session; must never repeat (e.g. a UUID per start). */
  readonly sessionPrefix: string
  readonly random?: RandomSource
  readonly electionTicks?: number
  readonly heartbeatTicks?: number
  /** Default RAFT_LEARNER_HEARTBEAT_TICKS_DEFAULT; never fewer than heartbeatTicks. */
  readonly learnerHeartbeatTicks?: number
  readonly snapshot?: Partial<SnapshotPolicy>
  readonly proposalTimeoutMs?: number
}

export interface ProposeOptions {
  /** An id made before (a retry): the command then takes effect at most once overall. */
  readonly proposal?: ProposalId
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
}

/** Called after the turn in which this peer became leader (true) or stopped being it. */
export type LeadershipListener = (leading: boolean, status: Status) => void

export class RaftDriver {
  readonly #init: RaftDriverInit
  readonly #node: RawNode
  readonly #machine: LedgerMachine
  readonly #proposals: ProposalQueue
  readonly #reads: ReadQueue
  readonly #inbox: Message[] = []
  readonly #leadership = new Set<LeadershipListener>()
  readonly #afterTurn = new Set<() => void>()
  #tick = 0
  #running = false
  #turn: Promise<void> | null = null
  #again = false
  #leading = false

  constructor(init: RaftDriverInit) {
    this.#init = init
    this.#machine = new LedgerMachine(init.storage, init.snapshot)
    this.#proposals = new ProposalQueue(init.sessionPrefix)
    this.#reads = new ReadQueue(init.sessionPrefix)
    const heartbeatTicks = init.heartbeatTicks ?? RAFT_HEARTBEAT_TICKS_DEFAULT
    this.#node = new RawNode({
      id: init.id,
      storage: init.storage,
      random: init.random ?? new SeededRandom(hashSeed(init.sessionPrefix)),
      electionTicks: init.electionTicks ?? RAFT_ELECTION_TICKS_DEFAULT,
      heartbeatTicks,
      learnerHeartbeatTicks: Math.max(
        heartbeatTicks,
        init.learnerHeartbeatTicks ?? RAFT_LEARNER_HEARTBEAT_TICKS_DEFAULT,
      ),
      applied: this.#machine.state.appliedIndex,
    })
  }

  /** Starts ticking and listening. A lone voter campaigns at once instead of waiting out an
   * election timeout, so a one-machine mesh takes proposals right after start. */
  start(): void {
    this.#running = true
    this.#init.transport.listen({
      onMessage: (message) => this.#receive(message),
      onSnapshotStatus: (to, delivered) => {
        this.#node.reportSnapshot(to, delivered)
        this.#schedule()
      },
    })
    this.#init.ticker.start(() => this.#onTick())
    const status = this.#node.status()
    if (status.conf.voters.length === 1 && status.conf.voters[0] === this.#init.id) {
      this.#node.campaign()
    }
    this.#schedule()
  }

  /** Finishes the turn under way, fails what waits, and closes the storage. */
  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#init.ticker.stop()
    while (this.#turn !== null) await this.#turn
    this.#proposals.rejectAll(new DriverStoppedError())
    this.#reads.rejectAll(new DriverStoppedError())
    await this.#init.storage.close()
  }

  get id(): NodeId {
    return this.#init.id
  }

  status(): Status {
    return this.#node.status()
  }

  /** The state as applied here, possibly behind the leader: callers must not mutate it. */
  localRead(): State {
    return this.#machine.state
  }

  /** A linearizable read (ReadIndex): resolves once this peer has applied everything the
   * leader had committed when the read was asked; then read the state (localRead()). */
  read(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<State> {
    if (!this.#running) return Promise.reject(new DriverStoppedError())
    const wait = this.#reads.add(options.timeoutMs ?? this.#timeoutMs(), options.signal)
    this.#schedule()
    return wait.then(() => this.#machine.state)
  }

  /** Throws NotCoordinatorError naming the leader unless this peer leads. */
  ensureLeader(): void {
    const status = this.#node.status()
    if (status.role !== 'leader') throw new NotCoordinatorError(status.leader)
  }

  onApplied(listener: AppliedListener): () => void {
    return this.#machine.onApplied(listener)
  }

  onLeadership(listener: LeadershipListener): () => void {
    this.#leadership.add(listener)
    return () => this.#leadership.delete(listener)
  }

  /** A fresh id stamped now; keep it to propose the same command again. */
  nextProposal(): ProposalId {
    const now = Math.max(this.#machine.state.logTime, this.#init.clock.now())
    return this.#proposals.session.next(now)
  }

  /** Resolves with the command's result once it is committed and applied here (also when a
   * follower forwarded it to the leader). Fails with NoLeaderError at the timeout,
   * ProposalAbortedError on the signal, DriverOverloadedError past PROPOSALS_PENDING_MAX. */
  propose(command: Command, options: ProposeOptions = {}): Promise<ApplyResult> {
    if (!this.#running) return Promise.reject(new DriverStoppedError())
    const proposal = options.proposal ?? this.nextProposal()
    const wait = this.#proposals.add(command, proposal, {
      timeoutMs: options.timeoutMs ?? this.#timeoutMs(),
      signal: options.signal,
    })
    this.#schedule()
    return wait
  }

  /** The core, for membership changes (membership.ts); call schedule() after use. */
  get node(): RawNode {
    return this.#node
  }

  /** Ticks since start: membership changes count their retries in them. */
  get ticks(): number {
    return this.#tick
  }

  /** Ticks an unanswered proposal, read or request waits before it is sent again: one election
   * timeout of this node, so it follows `--election-ticks`. */
  get retryTicks(): number {
    return this.#init.electionTicks ?? RAFT_ELECTION_TICKS_DEFAULT
  }

  /** Resolves after the next complete turn. */
  nextTurn(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>()
    this.#afterTurn.add(resolve)
    this.#schedule()
    return promise
  }

  /** Resolves once every entry this peer had committed when it started is applied: the
   * entries after its snapshot are applied in turns, as Raft hands them over. */
  async appliedLocalCommits(): Promise<void> {
    const committed = this.#init.storage.initialState().hardState.commit
    while (this.#running && this.#machine.state.appliedIndex < committed) await this.nextTurn()
  }

  /** Calls `listener` after every turn (at least once a tick) until it returns true. */
  untilTurn(listener: () => boolean): void {
    const check = (): void => {
      if (!this.#running || listener()) return
      this.#afterTurn.add(check)
    }
    this.#afterTurn.add(check)
    this.#schedule()
  }

  /** Runs a turn soon; turns never overlap, and one asked for during a turn runs after it. */
  schedule(): void {
    this.#schedule()
  }

  #timeoutMs(): number {
    return this.#init.proposalTimeoutMs ?? PROPOSAL_TIMEOUT_MS_DEFAULT
  }

  #receive(message: Message): Promise<void> {
    if (!this.#running) return Promise.resolve()
    this.#inbox.push(message)
    // A snapshot counts as delivered only once the turn that persists it is done.
    return message.type === 'snapshot' ? this.nextTurn() : (this.#schedule(), Promise.resolve())
  }

  #onTick(): void {
    this.#node.tick()
    this.#tick++
    // Whatever was handed over an election timeout ago and is still unanswered goes again:
    // it may have died with a leader. The session makes a copy that lands twice apply once.
    // Not on the leader: what it was handed while leading is in its own log, which it keeps
    // while it leads, and on a change of leader every proposal goes again anyway. A copy there
    // would be one more entry for every replica to store and apply, made just when commits are
    // slow (a loaded machine), which would make them slower still.
    if (!this.#leading) this.#proposals.resend(this.#tick - this.retryTicks)
    this.#reads.resend(this.#tick - this.retryTicks)
    this.#schedule()
  }

  #schedule(): void {
    if (!this.#running) return
    if (this.#turn !== null) {
      this.#again = true
      return
    }
    this.#turn = this.#loop().finally(() => {
      this.#turn = null
      // Asked for between the loop's last check and here: run it now rather than lose it.
      if (this.#again) this.#schedule()
    })
  }

  async #loop(): Promise<void> {
    // Yield to the event loop's next turn, so that what its I/O callbacks bring (proposals
    // from several requests, answers from several followers) makes one batch: one append and
    // one fsync here, one message to each follower, rather than one turn for the first of them
    // and another for the rest. It costs one turn of the loop, far less than a commit.
    await new Promise<void>((resolve) => setImmediate(resolve))
    do {
      this.#again = false
      await this.#runTurn()
      for (const resolve of [...this.#afterTurn]) {
        this.#afterTurn.delete(resolve)
        resolve()
      }
    } while (this.#again && this.#running)
  }

  async #runTurn(): Promise<void> {
    for (const message of this.#inbox.splice(0)) this.#node.step(message)
    this.#handOver()
    while (this.#node.hasReady()) await this.#handle(this.#node.ready())
    this.#reads.serve(this.#machine.state.appliedIndex)
  }

  /** Hands the core what waits to be sent: proposals as one batch, then reads. */
  #handOver(): void {
    this.#proposals.handOver(this.#node, this.#tick)
    this.#reads.handOver(this.#node, this.#tick)
  }

  async #handle(ready: Ready): Promise<void> {
    const { snapshot, entries, hardState } = ready
    if (snapshot !== undefined || entries.length > 0 || hardState !== undefined) {
      await this.#init.storage.save({ hardState, entries, snapshot }, { sync: ready.mustSync })
    }
    if (ready.messages.length > 0) this.#init.transport.send(ready.messages)
    if (snapshot !== undefined) this.#machine.restore(snapshot)
    for (const entry of ready.committedEntries) {
      const applied = this.#machine.applyRaftEntry(entry)
      if (applied !== undefined) this.#proposals.applied(applied.entry, applied.result)
    }
    this.#node.advance()
    this.#reads.confirmed(ready.readStates)
    await this.#machine.maybeCompact(this.#node.status())
    if (ready.softState !== undefined) this.#leadershipChanged()
  }

  #leadershipChanged(): void {
    const status = this.#node.status()
    // A new leader: what was handed to the old one may be lost; hand it over again.
    this.#proposals.resend()
    this.#reads.resend()
    const leading = status.role === 'leader'
    if (leading === this.#leading) return
    this.#leading = leading
    for (const listener of this.#leadership) listener(leading, status)
  }
}

/** A seed for election jitter that differs between peers and starts. */
function hashSeed(text: string): number {
  let hash = 2166136261
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619)
  return hash >>> 0
}
