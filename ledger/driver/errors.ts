// Typed failures of the Raft driver. Each says whether the caller may retry: a proposal that
// failed with a retryable error took effect at most once, and proposing it again under the
// same id (RaftDriver.propose with `proposal`) still makes it take effect at most once.
import type { NodeId } from '../raft/index.ts'

/** No leader answered in time (an election, a partition): retry later. */
export class NoLeaderError extends Error {
  readonly retryable = true
  constructor(waitedMs: number) {
    super(`no coordinator committed the proposal within ${waitedMs} ms: retry`)
    this.name = 'NoLeaderError'
  }
}

/** For callers that must run on the leader (the scheduler): names the leader if known. */
export class NotCoordinatorError extends Error {
  readonly retryable = true
  constructor(readonly leader: NodeId) {
    super(leader === '' ? 'no coordinator is known' : `the coordinator is ${leader}`)
    this.name = 'NotCoordinatorError'
  }
}

export class DriverStoppedError extends Error {
  readonly retryable = false
  constructor() {
    super('the ledger is stopped')
    this.name = 'DriverStoppedError'
  }
}

export class DriverOverloadedError extends Error {
  readonly retryable = true
  constructor(pending: number) {
    super(`${pending} proposals are waiting to be applied: retry later`)
    this.name = 'DriverOverloadedError'
  }
}

/** The caller's signal fired: the proposal may still take effect (once). */
export class ProposalAbortedError extends Error {
  readonly retryable = true
  constructor(reason: unknown) {
    super(`the proposal was abandoned: ${String(reason)}`)
    this.name = 'ProposalAbortedError'
  }
}
