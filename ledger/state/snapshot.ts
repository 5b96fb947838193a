// Encoding of the whole state as plain JSON. Maps are written as arrays of pairs in insertion
// order, which is the order entries created them, so replicas at the same index encode to the
// same bytes (the state hash compares those bytes).
import { isFinalJobState } from '../../protocol/index.ts'
import type { MeshPolicy } from '../../protocol/index.ts'
import type {
  Account,
  AppliedProposal,
  ExecutorRegistration,
  Job,
  State,
  Transfer,
} from './types.ts'

export interface StateSnapshot {
  readonly version: 2
  readonly appliedIndex: number
  readonly logTime: number
  readonly policy: MeshPolicy
  readonly accounts: [string, Account][]
  readonly transfers: Transfer[]
  readonly jobs: Job[]
  readonly submissions: [string, string][]
  readonly queue: string[]
  readonly executors: ExecutorRegistration[]
  /** In apply order, which is the order they are forgotten in. */
  readonly proposals: [string, AppliedProposal][]
  readonly proposalFloor: number
}

export function snapshotState(state: State): StateSnapshot {
  return {
    version: 2,
    appliedIndex: state.appliedIndex,
    logTime: state.logTime,
    policy: state.policy,
    accounts: [...state.accounts],
    transfers: state.transfers,
    jobs: state.jobOrder.map((id) => state.jobs.get(id) as Job),
    submissions: [...state.submissions],
    queue: state.queue,
    executors: [...state.executors.values()],
    proposals: [...state.proposals],
    proposalFloor: state.proposalFloor,
  }
}

export function encodeState(state: State): string {
  return JSON.stringify(snapshotState(state))
}

export function restoreState(snapshot: StoredSnapshot): State {
  const jobs = new Map(snapshot.jobs.map((job) => [job.id, job]))
  return {
    policy: snapshot.policy,
    accounts: new Map(snapshot.accounts),
    transfers: snapshot.transfers,
    transferIds: new Map(snapshot.transfers.map((transfer, position) => [transfer.id, position])),
    jobs,
    jobOrder: snapshot.jobs.map((job) => job.id),
    unfinished: new Set(
      snapshot.jobs.filter((job) => !isFinalJobState(job.state)).map((job) => job.id),
    ),
    submissions: new Map(snapshot.submissions),
    queue: snapshot.queue,
    executors: new Map(snapshot.executors.map((executor) => [executor.peer, executor])),
    // Version 1 predates proposal ids: nothing was remembered, and nothing needs refusing.
    proposals: new Map(snapshot.proposals ?? []),
    proposalFloor: snapshot.proposalFloor ?? 0,
    appliedIndex: snapshot.appliedIndex,
    logTime: snapshot.logTime,
  }
}

/** Snapshots written before proposal ids lack the proposal table. */
type StoredSnapshot =
  | StateSnapshot
  | (Omit<StateSnapshot, 'version' | 'proposals' | 'proposalFloor'> & {
      readonly version: 1
      readonly proposals?: undefined
      readonly proposalFloor?: undefined
    })

export function decodeState(text: string): State {
  return restoreState(JSON.parse(text) as StoredSnapshot)
}
