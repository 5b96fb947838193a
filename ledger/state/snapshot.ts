// Encoding of the whole state as plain JSON. Maps are written as arrays of pairs in insertion
// order, which is the order entries created them, so replicas at the same index encode to the
// same bytes (the state hash compares those bytes).
import { isFinalJobState, utf8Bytes } from '../../protocol/index.ts'
import type { JobSpec, MeshPolicy } from '../../protocol/index.ts'
import { sha256Hex } from './sha256.ts'
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

export function restoreState(stored: StoredSnapshot): State {
  const snapshot = upgrade(stored)
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
    proposals: new Map(snapshot.proposals),
    proposalFloor: snapshot.proposalFloor,
    appliedIndex: snapshot.appliedIndex,
    logTime: snapshot.logTime,
  }
}

/** Version 1 predates proposal ids (no proposal table) and kept each job's code in its spec,
 * also once the job had ended. */
type StoredSnapshot =
  | StateSnapshot
  | (Omit<StateSnapshot, 'version' | 'proposals' | 'proposalFloor' | 'jobs'> & {
      readonly version: 1
      readonly jobs: (Omit<Job, 'spec' | 'code' | 'codeBytes' | 'codeSha256'> & {
        readonly spec: JobSpec
      })[]
      readonly proposals?: undefined
      readonly proposalFloor?: undefined
    })

function upgrade(snapshot: StoredSnapshot): StateSnapshot {
  if (snapshot.version === 2) return snapshot
  const jobs = snapshot.jobs.map((job): Job => {
    const { code, ...settings } = job.spec
    return {
      ...job,
      spec: settings,
      code: isFinalJobState(job.state) ? null : code,
      codeBytes: utf8Bytes(code),
      codeSha256: sha256Hex(code),
    }
  })
  return { ...snapshot, version: 2, jobs, proposals: [], proposalFloor: 0 }
}

export function decodeState(text: string): State {
  return restoreState(JSON.parse(text) as StoredSnapshot)
}
