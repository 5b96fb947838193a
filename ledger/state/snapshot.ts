// Encoding of the whole state as plain JSON. Maps are written as arrays of pairs in insertion
// order, which is the order entries created them, so replicas at the same index encode to the
// same bytes (the state hash compares those bytes).
import { isFinalJobState } from '../../protocol/index.ts'
import type { MeshPolicy } from '../../protocol/index.ts'
import type { Account, ExecutorRegistration, Job, State, Transfer } from './types.ts'

export interface StateSnapshot {
  readonly version: 1
  readonly appliedIndex: number
  readonly logTime: number
  readonly policy: MeshPolicy
  readonly accounts: [string, Account][]
  readonly transfers: Transfer[]
  readonly jobs: Job[]
  readonly submissions: [string, string][]
  readonly queue: string[]
  readonly executors: ExecutorRegistration[]
}

export function snapshotState(state: State): StateSnapshot {
  return {
    version: 1,
    appliedIndex: state.appliedIndex,
    logTime: state.logTime,
    policy: state.policy,
    accounts: [...state.accounts],
    transfers: state.transfers,
    jobs: state.jobOrder.map((id) => state.jobs.get(id) as Job),
    submissions: [...state.submissions],
    queue: state.queue,
    executors: [...state.executors.values()],
  }
}

export function encodeState(state: State): string {
  return JSON.stringify(snapshotState(state))
}

export function restoreState(snapshot: StateSnapshot): State {
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
    appliedIndex: snapshot.appliedIndex,
    logTime: snapshot.logTime,
  }
}

export function decodeState(text: string): State {
  return restoreState(JSON.parse(text) as StateSnapshot)
}
