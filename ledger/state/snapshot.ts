// Encoding of the whole state as plain JSON. Maps are written as arrays of pairs in insertion
// order, which is the order entries created them, so replicas at the same index encode to the
// same bytes (the state hash compares those bytes).
import { isFinalJobState, utf8Bytes } from '../../protocol/index.ts'
import type { JobSpec, MeshPolicy } from '../../protocol/index.ts'
import { canonicalJson } from './canonical.ts'
import { sha256Hex } from './sha256.ts'
import type {
  Account,
  AdmittedPeer,
  ApplyResult,
  MeshRecord,
  ExecutorRegistration,
  Job,
  Parent,
  Session,
  State,
  Transfer,
} from './types.ts'

/** A session as stored: its results as pairs, in the order they were applied. */
export interface StoredSession {
  readonly floor: number
  readonly results: [number, ApplyResult][]
  readonly activeAt: number
}

export interface StateSnapshot {
  readonly version: 4
  readonly appliedIndex: number
  readonly logTime: number
  readonly policy: MeshPolicy
  readonly mesh: MeshRecord | null
  /** In order of first admission. */
  readonly peers: AdmittedPeer[]
  readonly accounts: [string, Account][]
  readonly transfers: Transfer[]
  readonly jobs: Job[]
  readonly submissions: [string, string][]
  readonly queue: string[]
  readonly executors: ExecutorRegistration[]
  /** In order of last activity, which is the order they expire in. */
  readonly sessions: [string, StoredSession][]
  /** Sharded jobs in creation order; absent when there are none, so that a state without
   * any encodes to the bytes it did before they existed. */
  readonly parents?: Parent[]
}

export function snapshotState(state: State): StateSnapshot {
  return {
    version: 4,
    appliedIndex: state.appliedIndex,
    logTime: state.logTime,
    policy: state.policy,
    mesh: state.mesh,
    peers: [...state.peers.values()],
    accounts: [...state.accounts],
    transfers: state.transfers,
    jobs: state.jobOrder.map((id) => state.jobs.get(id) as Job),
    submissions: [...state.submissions],
    queue: state.queue,
    executors: [...state.executors.values()],
    sessions: [...state.sessions].map(([name, session]) => [
      name,
      { floor: session.floor, results: [...session.results], activeAt: session.activeAt },
    ]),
    ...(state.parents.size > 0 ? { parents: [...state.parents.values()] } : {}),
  }
}

export function encodeState(state: State): string {
  return JSON.stringify(snapshotState(state))
}

/** SHA-256 (hex) of the state's canonical encoding at its applied index: replicas that applied
 * the same entries report the same hash, however they got there (log or snapshot). Keys are
 * sorted so that the hash does not depend on the order an object's fields were written in;
 * the orders of maps and lists are the state's own and count. */
export function stateHash(state: State): string {
  return sha256Hex(canonicalJson(snapshotState(state)))
}

export function restoreState(stored: StoredSnapshot): State {
  const snapshot = upgrade(stored)
  const jobs = new Map(snapshot.jobs.map((job) => [job.id, job]))
  return {
    policy: snapshot.policy,
    mesh: snapshot.mesh,
    peers: new Map(snapshot.peers.map((peer) => [peer.peer, peer])),
    accounts: new Map(snapshot.accounts),
    transfers: snapshot.transfers,
    transferIds: new Map(snapshot.transfers.map((transfer, position) => [transfer.id, position])),
    jobs,
    jobOrder: snapshot.jobs.map((job) => job.id),
    parents: new Map((snapshot.parents ?? []).map((parent) => [parent.id, parent])),
    unfinished: new Set(
      snapshot.jobs.filter((job) => !isFinalJobState(job.state)).map((job) => job.id),
    ),
    changedJobs: new Set(),
    submissions: new Map(snapshot.submissions),
    queue: snapshot.queue,
    executors: new Map(snapshot.executors.map((executor) => [executor.peer, executor])),
    sessions: new Map(
      snapshot.sessions.map(([name, stored]): [string, Session] => [
        name,
        { floor: stored.floor, results: new Map(stored.results), activeAt: stored.activeAt },
      ]),
    ),
    appliedIndex: snapshot.appliedIndex,
    logTime: snapshot.logTime,
  }
}

/** Version 3 predates the mesh records (genesis, join secrets, admitted peers); version 2
 * named proposals by one id, remembered for a window of log time; version 1 predates proposal
 * ids and kept each job's code in its spec, also once the job had ended. */
type Version3 = Omit<StateSnapshot, 'version' | 'mesh' | 'peers'> & { readonly version: 3 }
type StoredSnapshot =
  | StateSnapshot
  | Version3
  | (Omit<Version3, 'version' | 'sessions'> & {
      readonly version: 2
      readonly proposals: unknown[]
      readonly proposalFloor: number
    })
  | (Omit<Version3, 'version' | 'sessions' | 'jobs'> & {
      readonly version: 1
      readonly jobs: (Omit<Job, 'spec' | 'code' | 'codeBytes' | 'codeSha256'> & {
        readonly spec: JobSpec
      })[]
    })

/** Brings an older snapshot to the current version. The proposal table of version 2 is
 * dropped: every proposer opens a new session when it starts, so none of its ids can come
 * again under the new naming. A mesh from before version 4 has no genesis record. */
function upgrade(snapshot: StoredSnapshot): StateSnapshot {
  if (snapshot.version === 4) return snapshot
  return { ...toVersion3(snapshot), version: 4, mesh: null, peers: [] }
}

function toVersion3(snapshot: Exclude<StoredSnapshot, StateSnapshot>): Version3 {
  if (snapshot.version === 3) return snapshot
  if (snapshot.version === 2) {
    const upgraded: Record<string, unknown> = { ...snapshot, version: 3, sessions: [] }
    delete upgraded.proposals
    delete upgraded.proposalFloor
    return upgraded as unknown as Version3
  }
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
  return { ...snapshot, version: 3, jobs, sessions: [] }
}

export function decodeState(text: string): State {
  return restoreState(JSON.parse(text) as StoredSnapshot)
}
