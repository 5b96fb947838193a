// The autopilot: a coordinator service that keeps the mesh at its voter target by reviewing
// the leader's Raft status on a timer and proposing, at most one at a time, the membership
// change the rules in autopilot-rules.ts decide (hashicorp/raft-autopilot is the model).
import type { Clock, raft } from '../../ledger/index.ts'
import { AUTOPILOT_INTERVAL_MS, AUTOPILOT_PROPOSAL_TIMEOUT_MS } from '../../protocol/index.ts'
import { assessMembers, autopilotConfig, decide } from './autopilot-rules.ts'
import type {
  AutopilotConfig,
  AutopilotStatus,
  Decision,
  MemberContact,
  MemberHealth,
} from './autopilot-rules.ts'

// The autopilot's whole public surface, so the coordinator's index exports it in one line.
export { AutopilotConfigError, autopilotConfig } from './autopilot-rules.ts'
export type {
  AutopilotConfig,
  AutopilotStatus,
  Decision,
  MemberContact,
  MemberHealth,
  VoterTarget,
} from './autopilot-rules.ts'

/** Runs a callback on an interval; the daemon passes systemIntervalTimer, tests drive one. */
export interface IntervalTimer {
  /** Calls `run` every `intervalMs` until the returned function is called. */
  every(intervalMs: number, run: () => void): () => void
}

export const systemIntervalTimer: IntervalTimer = {
  every(intervalMs, run) {
    const timer = setInterval(run, intervalMs)
    // The autopilot alone must not keep a stopping daemon alive.
    timer.unref()
    return () => clearInterval(timer)
  },
}

export type AutopilotEvent =
  | { readonly type: 'proposed'; readonly change: raft.ConfChange; readonly reason: string }
  | { readonly type: 'accepted'; readonly change: raft.ConfChange }
  | { readonly type: 'failed'; readonly change: raft.ConfChange; readonly error: unknown }

export class AutopilotProposalTimeoutError extends Error {
  override name = 'AutopilotProposalTimeoutError'
}

export interface AutopilotInit {
  /** This peer's Raft status; the autopilot acts only while it says this peer is leader. */
  readonly status: () => AutopilotStatus
  /** What the coordinator knows of each member: its last contact and whether it may vote.
   * A member missing from the map counts as never heard from. */
  readonly contacts: () => ReadonlyMap<raft.NodeId, MemberContact>
  /**
   * Proposes one conf change. It resolves once the leader has accepted the change into its
   * log and rejects when the change is refused (ProposalDroppedError: not the leader, one is
   * already uncommitted, the leader has not committed in its term); the autopilot reviews
   * again on its next round either way. `signal` aborts when the autopilot gives up on it.
   */
  readonly proposeConfChange: (change: raft.ConfChange, signal: AbortSignal) => Promise<void>
  readonly clock: Clock
  readonly timer: IntervalTimer
  readonly config: Partial<AutopilotConfig> & Pick<AutopilotConfig, 'voterTarget'>
  readonly intervalMs?: number
  readonly proposalTimeoutMs?: number
  /** Told of every change proposed, accepted or failed: the autopilot's log. */
  readonly onEvent: (event: AutopilotEvent) => void
}

interface Flight {
  readonly change: raft.ConfChange
  readonly controller: AbortController
  readonly sinceMs: number
  done: Promise<void>
}

export class Autopilot {
  readonly #init: AutopilotInit
  readonly #config: AutopilotConfig
  #cancel: (() => void) | undefined = undefined
  #healthySinceMs = new Map<raft.NodeId, number>()
  #trackedSinceMs: number | undefined = undefined
  #flight: Flight | undefined = undefined
  #members: readonly MemberHealth[] = []

  /** Validates the config (throws AutopilotConfigError); start() begins the reviews. */
  constructor(init: AutopilotInit) {
    this.#init = init
    this.#config = autopilotConfig(init.config)
  }

  get config(): AutopilotConfig {
    return this.#config
  }

  /** Each member's health as of the last review, for `gridx mesh`; empty when not leading. */
  get members(): readonly MemberHealth[] {
    return this.#members
  }

  start(): void {
    if (this.#cancel !== undefined) return
    const intervalMs = this.#init.intervalMs ?? AUTOPILOT_INTERVAL_MS
    this.#cancel = this.#init.timer.every(intervalMs, () => this.reconcile())
  }

  /** Stops the reviews, aborts a proposal in flight and forgets every member's health. */
  stop(): void {
    this.#cancel?.()
    this.#cancel = undefined
    this.#flight?.controller.abort()
    this.#flight = undefined
    this.#forget()
  }

  /** Resolves once no proposal is in flight (tests, and a stop that wants a clean end). */
  async idle(): Promise<void> {
    while (this.#flight !== undefined) await this.#flight.done
  }

  /**
   * One review: assesses every member, and proposes the change the rules decide unless a
   * proposal is still in flight. The timer calls it; a caller may call it to act at once.
   */
  reconcile(): Decision {
    const nowMs = this.#init.clock.now()
    const status = this.#init.status()
    if (status.role !== 'leader') {
      // A new term of leadership starts its contact tracking afresh.
      this.#forget()
      return decide(status, [], this.#config)
    }
    this.#trackedSinceMs ??= nowMs
    const members = assessMembers({
      status,
      contacts: this.#init.contacts(),
      healthySinceMs: this.#healthySinceMs,
      trackedSinceMs: this.#trackedSinceMs,
      nowMs,
      config: this.#config,
    })
    this.#members = members
    this.#healthySinceMs = new Map()
    for (const m of members) {
      if (m.healthySinceMs !== undefined) this.#healthySinceMs.set(m.id, m.healthySinceMs)
    }
    const flight = this.#flight
    if (flight !== undefined) {
      const timeoutMs = this.#init.proposalTimeoutMs ?? AUTOPILOT_PROPOSAL_TIMEOUT_MS
      if (nowMs - flight.sinceMs <= timeoutMs) {
        return { change: undefined, reason: 'a conf change proposal is in flight' }
      }
      this.#giveUp(flight, timeoutMs)
    }
    const decision = decide(status, members, this.#config)
    if (decision.change !== undefined) this.#propose(decision.change, decision.reason, nowMs)
    return decision
  }

  #propose(change: raft.ConfChange, reason: string, nowMs: number): void {
    const controller = new AbortController()
    const flight: Flight = { change, controller, sinceMs: nowMs, done: Promise.resolve() }
    this.#flight = flight
    this.#init.onEvent({ type: 'proposed', change, reason })
    const settle = (event: AutopilotEvent): void => {
      if (this.#flight !== flight) return
      this.#flight = undefined
      this.#init.onEvent(event)
    }
    flight.done = Promise.resolve()
      .then(() => this.#init.proposeConfChange(change, controller.signal))
      .then(
        () => settle({ type: 'accepted', change }),
        (error: unknown) => settle({ type: 'failed', change, error }),
      )
  }

  /** Drops a proposal that did not settle in time; a late answer to it is ignored. */
  #giveUp(flight: Flight, timeoutMs: number): void {
    const error = new AutopilotProposalTimeoutError(
      `${flight.change.type} ${flight.change.node} was not accepted within ${timeoutMs} ms`,
    )
    this.#flight = undefined
    flight.controller.abort(error)
    this.#init.onEvent({ type: 'failed', change: flight.change, error })
  }

  #forget(): void {
    this.#healthySinceMs = new Map()
    this.#trackedSinceMs = undefined
    this.#members = []
  }
}
