// The driver around the state machine. Today it is the single-voter path: a proposal becomes a
// log entry stamped with log time, entries proposed together are persisted in one synced batch
// (group commit), then applied in order, then acknowledged. Raft slots in behind `propose`
// without changing callers.
import {
  apply,
  assert,
  createState,
  decodeState,
  encodeState,
  ledgerViolations,
} from './state/index.ts'
import type { ApplyResult, Command, Entry, ProposalId, State } from './state/index.ts'
import {
  SESSION_IDLE_MS,
  SESSION_PROPOSALS_IN_FLIGHT_MAX,
  SNAPSHOT_LOG_BYTES_MAX,
} from '../protocol/index.ts'
import type { Clock } from './clock.ts'
import type { CommandLog } from './storage/command-log.ts'

export interface ReplicaInit {
  readonly log: CommandLog
  readonly clock: Clock
  /** Names this replica's proposals (the daemon's PeerId); unique in the mesh. */
  readonly proposer: string
  /** Entries between snapshots; a snapshot bounds the log replayed at start. */
  readonly snapshotEveryEntries?: number
  /** Bytes of entries between snapshots (SNAPSHOT_LOG_BYTES_MAX by default), whichever of the
   * two bounds is reached first: big submissions must not fill the disk between snapshots. */
  readonly snapshotEveryBytes?: number
}

export type AppliedListener = (entry: Entry, result: ApplyResult) => void

interface Pending {
  readonly command: Command
  readonly proposal: ProposalId
  readonly resolve: (result: ApplyResult) => void
  readonly reject: (error: unknown) => void
}

/** Proposals waiting for the next batch; a bound so a stalled disk cannot eat memory. */
const PENDING_PROPOSALS_MAX = 10_000

const INCARNATION_KEY = 'incarnation'

/** An entry's size in the log, near enough: the log stores it as this JSON. Only a submission
 * is big, so the rest are counted at a flat rate instead of being encoded twice. */
function entryBytes(entry: Entry): number {
  if (entry.command.type !== 'job.submit') return 256
  return 512 + entry.command.spec.code.length
}

/** Entries stored before proposal sessions existed (with no id, or one id string) get a session
 * of their own from their index: each was applied once already, and nothing can deliver them
 * again. Such sessions expire like any other. */
function withProposal(entry: Entry, logTime: number): Entry {
  if ((entry as Partial<Entry>).proposal?.session !== undefined) return entry
  const proposedAt = Math.max(entry.logTime, logTime)
  const session = `log/${entry.index}`
  return { ...entry, proposal: { session, sequence: 1, acknowledged: 0, proposedAt } }
}

export class ReplicaStoppedError extends Error {
  constructor() {
    super('the ledger is stopped')
    this.name = 'ReplicaStoppedError'
  }
}

export class ReplicaOverloadedError extends Error {
  constructor() {
    super(`more than ${PENDING_PROPOSALS_MAX} proposals are waiting for the disk`)
    this.name = 'ReplicaOverloadedError'
  }
}

export class Replica {
  readonly #log: CommandLog
  readonly #clock: Clock
  readonly #proposer: string
  readonly #snapshotEveryEntries: number
  readonly #snapshotEveryBytes: number
  readonly #listeners = new Set<AppliedListener>()
  #state: State = createState()
  #pending: Pending[] = []
  #flushing: Promise<void> | null = null
  #sinceSnapshot = 0
  #sinceSnapshotBytes = 0
  #running = false
  /** Counts this proposer's starts (kept in the log's metadata), so ids never repeat. */
  #incarnation = 0
  /** Counts the sessions opened since the start: one is opened after a silence, since the
   * ledger forgets a silent session (SESSION_IDLE_MS). */
  #epoch = 0
  #sequence = 0
  /** Every sequence of the session at or below it has been answered to its caller. */
  #settledUpTo = 0
  /** Sequences above `#settledUpTo` already answered. */
  readonly #settled = new Set<number>()
  #activeAt = Number.NEGATIVE_INFINITY

  constructor(init: ReplicaInit) {
    this.#log = init.log
    this.#clock = init.clock
    this.#proposer = init.proposer
    this.#snapshotEveryEntries = init.snapshotEveryEntries ?? 1000
    this.#snapshotEveryBytes = init.snapshotEveryBytes ?? SNAPSHOT_LOG_BYTES_MAX
  }

  /** Loads the snapshot and replays the log after it; the state is then as before the stop. */
  async start(): Promise<void> {
    const stored = await this.#log.open()
    this.#state = stored.snapshot === null ? createState() : decodeState(stored.snapshot.encoded)
    for (const entry of stored.entries) apply(this.#state, withProposal(entry, this.#state.logTime))
    const violations = ledgerViolations(this.#state)
    assert(
      violations.length === 0,
      `ledger does not add up after restart: ${violations.join('; ')}`,
    )
    this.#sinceSnapshot = stored.entries.length
    this.#sinceSnapshotBytes = stored.entries.reduce((sum, entry) => sum + entryBytes(entry), 0)
    // Durable before the first proposal: a crash must not let the next start reuse its ids.
    this.#incarnation = Number((await this.#log.getMeta(INCARNATION_KEY)) ?? '0') + 1
    await this.#log.putMeta(INCARNATION_KEY, String(this.#incarnation))
    this.#epoch = 0
    this.#openSession()
    this.#running = true
  }

  /** Persists what is pending, then closes the log. Later proposals are refused. */
  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    while (this.#flushing !== null) await this.#flushing
    for (const pending of this.#pending.splice(0)) pending.reject(new ReplicaStoppedError())
    await this.#log.close()
  }

  /** Read-only: callers must not mutate it. */
  get state(): State {
    return this.#state
  }

  onApplied(listener: AppliedListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** A fresh id for a proposal, stamped now. Keep it to propose the same command again; every
   * id taken must be proposed, since the session acknowledges results in sequence order. */
  nextProposal(): ProposalId {
    const proposedAt = Math.max(this.#state.logTime, this.#clock.now())
    const idle = this.#sequence > 0 && this.#settledUpTo === this.#sequence
    if (idle && proposedAt - this.#activeAt > SESSION_IDLE_MS / 2) this.#openSession()
    this.#activeAt = Math.max(this.#activeAt, proposedAt)
    return {
      session: this.#session(),
      sequence: ++this.#sequence,
      acknowledged: this.#settledUpTo,
      proposedAt,
    }
  }

  /** Resolves with the command's result once it is durable and applied. Proposed again under
   * the same `proposal`, it takes effect once and resolves with the first result, `replayed`
   * (or "already applied" once the session acknowledged it). */
  propose(command: Command, proposal?: ProposalId): Promise<ApplyResult> {
    if (!this.#running) return Promise.reject(new ReplicaStoppedError())
    if (
      this.#pending.length >= PENDING_PROPOSALS_MAX ||
      (proposal === undefined &&
        this.#sequence - this.#settledUpTo >= SESSION_PROPOSALS_IN_FLIGHT_MAX)
    ) {
      return Promise.reject(new ReplicaOverloadedError())
    }
    const id = proposal ?? this.nextProposal()
    const { promise, resolve, reject } = Promise.withResolvers<ApplyResult>()
    const settle = (): void => this.#settle(id)
    this.#pending.push({
      command,
      proposal: id,
      resolve: (result) => (settle(), resolve(result)),
      reject: (error) => (settle(), reject(error)),
    })
    if (this.#flushing === null) this.#flushing = this.#flushLoop()
    return promise
  }

  #session(): string {
    return `${this.#proposer}/${this.#incarnation}/${this.#epoch}`
  }

  #openSession(): void {
    this.#epoch++
    this.#sequence = 0
    this.#settledUpTo = 0
    this.#settled.clear()
  }

  /** Marks a proposal of the current session answered, and moves the acknowledgement up over
   * every sequence answered without a gap. */
  #settle(proposal: ProposalId): void {
    if (proposal.session !== this.#session()) return
    if (proposal.sequence <= this.#settledUpTo) return
    this.#settled.add(proposal.sequence)
    while (this.#settled.delete(this.#settledUpTo + 1)) this.#settledUpTo++
  }

  async #flushLoop(): Promise<void> {
    try {
      // Yield once so proposals made in the same tick share one batch and one fsync.
      await Promise.resolve()
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0)
        await this.#commit(batch)
      }
    } finally {
      this.#flushing = null
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const logTime = Math.max(this.#state.logTime, this.#clock.now())
    const first = this.#state.appliedIndex + 1
    const entries = batch.map((pending, offset) => ({
      index: first + offset,
      logTime,
      proposal: pending.proposal,
      command: pending.command,
    }))
    try {
      await this.#log.append(entries)
    } catch (error) {
      for (const pending of batch) pending.reject(error)
      return
    }
    entries.forEach((entry, offset) => {
      const result = apply(this.#state, entry)
      for (const listener of this.#listeners) listener(entry, result)
      batch[offset]?.resolve(result)
    })
    this.#sinceSnapshot += entries.length
    this.#sinceSnapshotBytes += entries.reduce((sum, entry) => sum + entryBytes(entry), 0)
    if (
      this.#sinceSnapshot >= this.#snapshotEveryEntries ||
      this.#sinceSnapshotBytes >= this.#snapshotEveryBytes
    ) {
      await this.#snapshot()
    }
  }

  async #snapshot(): Promise<void> {
    await this.#log.saveSnapshot(this.#state.appliedIndex, encodeState(this.#state))
    this.#sinceSnapshot = 0
    this.#sinceSnapshotBytes = 0
  }
}
