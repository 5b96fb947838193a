// The replicated state and the commands that change it. Every field is plain data so that
// replicas that applied the same entries encode to the same bytes (see snapshot.ts).
import type {
  AggregateRule,
  ErrorName,
  JobFile,
  JobResult,
  JobSpec,
  JobState,
  JoinRole,
  MeshPolicy,
  ParentState,
  RoundState,
  RunOutcome,
  TransferView,
} from '../../protocol/index.ts'

export interface Account {
  balanceMc: number
  /** Sum of the maximum prices of this account's unsettled jobs (held by `escrow`). */
  escrowedMc: number
  /** Positions in `State.transfers` of the transfers that touch this account, oldest first. */
  transfers: number[]
}

/** A posted transfer is stored in the shape the API shows. */
export type Transfer = TransferView

export interface JobEvent {
  readonly state: JobState
  readonly at: number
  readonly reason: string | null
}

/** A job's spec without its code, which the state keeps only while the job may still run. */
export type JobSettings = Omit<JobSpec, 'code'>

export interface Job {
  readonly id: string
  readonly submitter: string
  readonly idempotencyId: string
  readonly spec: JobSettings
  /** The code while the job may still run; null once it is final, so that finished jobs (the
   * history) do not keep every submission's code in memory and in every snapshot. */
  code: string | null
  /** UTF-8 bytes of the code; it counts against the account's queue while the job is open. */
  readonly codeBytes: number
  /** SHA-256 of the code's UTF-8 bytes, in hex: tells a replayed submission from a conflict
   * once the code is gone, and names the code wherever it is kept outside the state. */
  readonly codeSha256: string
  state: JobState
  readonly createdAt: number
  assignedAt: number | null
  startedAt: number | null
  finishedAt: number | null
  attempts: number
  /** Log index of the current assignment: the fencing token a result must carry. */
  fence: number | null
  executor: string | null
  executorOwner: string | null
  readonly maxPriceMc: number
  priceMc: number | null
  executorPaidMc: number | null
  feesPaidMc: number | null
  result: JobResult | null
  reason: string | null
  /** True while the escrow is held (from submission until settled or voided). */
  escrowHeld: boolean
  readonly events: JobEvent[]
  /** The sharded job this one is a child of: `shard` is its shard's index, null for the
   * reduce. Absent for a job of its own, so such a job encodes as it did before. */
  readonly parent?: { readonly id: string; readonly shard: number | null }
}

/** One shard of a parent: its inputs and the map jobs run for it, the first run first. */
export interface ParentShard {
  readonly inputs: readonly JobFile[]
  readonly jobs: string[]
}

/** A sharded job (parents.ts): it runs nothing itself; its children do. */
export interface Parent {
  readonly id: string
  readonly submitter: string
  readonly idempotencyId: string
  /** The map jobs' settings without their inputs; the reduce runs with the same ones. */
  readonly map: JobSettings
  /** The map's and the reduce's code while a child may still be created; null once final. */
  mapCode: string | null
  reduceCode: string | null
  readonly hasReduce: boolean
  readonly shards: ParentShard[]
  /** The reduce job, once every map succeeded. */
  reduce: string | null
  state: ParentState
  /** What the parent escrowed in all: every map, the reduce and every retry. */
  readonly maxPriceMc: number
  /** The part of that held for children not yet created (the reduce, retries): it is in
   * `escrow`, counted in the submitter's `escrowedMc`, and refunded when the parent ends. */
  reservedMc: number
  readonly createdAt: number
  finishedAt: number | null
  reason: string | null
  /** Set on a training job (training.ts): `reduceCode` is then the aggregate script, run after
   * every round. Absent on a sharded job, so such a parent encodes as it did before. */
  readonly training?: Training
}

/** One round of a training job. Times are log times (ms). */
export interface TrainingRound {
  /** 1-based. */
  readonly index: number
  state: RoundState
  readonly openedAt: number
  closedAt: number | null
  /** Each shard's train jobs in this round, the first run first. */
  readonly jobs: string[][]
  /** Shards cut off at the round's deadline, their jobs cancelled unpaid. */
  readonly cut: number[]
  /** The round's aggregate job, once the round closed. */
  aggregate: string | null
}

/** A training job's rounds (protocol/training.ts): its parent's shards run every round. */
export interface Training {
  readonly rounds: number
  readonly minShards: number
  readonly roundTimeoutS: number | null
  readonly aggregate: AggregateRule
  /** Each shard's rows as split, which weight the shards' metrics in the view; null when the
   * submitter did not count them (each shard then weighs the same). */
  readonly samples: readonly number[] | null
  /** Every round opened, oldest first: the last is the current one. */
  readonly history: TrainingRound[]
}

export interface ExecutorRegistration {
  readonly peer: string
  readonly owner: string
}

/** The join secrets' SHA-256 hashes (hex); the secrets themselves are never replicated. */
export interface JoinSecretHashes {
  readonly voter: string
  readonly executor: string
  /** Replaced hashes, oldest first, at most JOIN_ROTATED_HASHES_MAX. */
  readonly rotated: readonly string[]
}

/** A same-owner join secret's hash (`gridx token --same-owner`): a peer that joins with it is
 * admitted with `owner`'s account instead of an account of its own. One per issuer and role. */
export interface OwnerSecretHash {
  /** The peer that issued it; its owner, when it was issued, is the one the joiner gets. */
  readonly issuer: string
  readonly owner: string
  readonly role: JoinRole
  readonly hash: string
}

/** A member's own join secret's hash (`gridx token` on a peer other than the founder): judged
 * by that member, which alone holds the secret. One per issuer and role. */
export interface IssuerSecretHash {
  readonly issuer: string
  readonly role: JoinRole
  readonly hash: string
}

/** What genesis founded: the first entry of every mesh. */
export interface MeshRecord {
  readonly meshId: string
  /** The PeerId of the first voter. */
  readonly founder: string
  /** Voters the coordinator aims for (1, 3 or 5). */
  readonly voterTarget: number
  secrets: JoinSecretHashes
  /** Same-owner secrets, in order of issue. Absent until one is issued, so that a state that
   * never had one encodes to the bytes it did before the field existed. At most two per
   * admitted peer. Replaced hashes go to `secrets.rotated`. */
  ownerSecrets?: readonly OwnerSecretHash[]
  /** Members' own secrets, in order of issue; absent until one is issued, as `ownerSecrets`.
   * Replaced hashes go to `secrets.rotated`. */
  issuerSecrets?: readonly IssuerSecretHash[]
}

export interface AdmittedPeer {
  readonly peer: string
  /** The account paid for the jobs the peer runs. */
  readonly owner: string
  readonly roles: readonly JoinRole[]
  readonly admittedAt: number
  /** Where the peer last said it listens (multiaddrs); absent until it says so. An optional
   * field, so snapshots of version 4 written before it still decode as they are. */
  readonly addresses?: readonly string[]
}

export interface State {
  policy: MeshPolicy
  /** Null until genesis is applied. */
  mesh: MeshRecord | null
  /** Admitted peers by PeerId, in order of first admission. */
  readonly peers: Map<string, AdmittedPeer>
  readonly accounts: Map<string, Account>
  readonly transfers: Transfer[]
  readonly transferIds: Map<string, number>
  readonly jobs: Map<string, Job>
  /** Job ids in creation order. */
  readonly jobOrder: string[]
  /** Ids of jobs not in a final state, in creation order. Derived (not in snapshots): it lets
   * the scheduler and the limits look at open jobs without walking the whole history. */
  readonly unfinished: Set<string>
  /** Ids of the jobs the last applied entry created or moved to another state, whether or
   * not its command names them (a parent's cancel ends its children; a peer's removal
   * requeues what it held). Derived (not in snapshots), cleared at each entry: what watches
   * jobs after each entry reads it instead of guessing from the command. */
  readonly changedJobs: Set<string>
  /** Sharded jobs by id, in creation order. */
  readonly parents: Map<string, Parent>
  /** `${submitter}\n${idempotencyId}` → job id: replays find the first job. */
  readonly submissions: Map<string, string>
  /** Queued job ids, first to run first. */
  readonly queue: string[]
  readonly executors: Map<string, ExecutorRegistration>
  /** Proposer sessions (see proposals.ts), in order of last activity, so the front is the
   * next to expire. Bounded by SESSIONS_MAX; part of snapshots: replicas must agree on it. */
  readonly sessions: Map<string, Session>
  appliedIndex: number
  /** Largest log time applied: log time never goes backwards. */
  logTime: number
}

export type { RunOutcome } from '../../protocol/index.ts'

export type Command =
  | { readonly type: 'account.open'; readonly account: string }
  | { readonly type: 'executor.register'; readonly peer: string; readonly owner: string }
  | {
      readonly type: 'job.submit'
      readonly jobId: string
      readonly submitter: string
      readonly idempotencyId: string
      readonly spec: JobSpec
    }
  | { readonly type: 'job.assign'; readonly jobId: string; readonly executor: string }
  | { readonly type: 'job.start'; readonly jobId: string; readonly fence: number }
  | {
      readonly type: 'job.finish'
      readonly jobId: string
      readonly fence: number
      readonly outcome: RunOutcome
    }
  | {
      readonly type: 'job.lost'
      readonly jobId: string
      readonly fence: number
      readonly reason: string
    }
  | { readonly type: 'job.cancel'; readonly jobId: string; readonly by: string }
  /** A sharded job: one map job per entry of `shards` (its inputs), then the reduce. */
  | {
      readonly type: 'parent.submit'
      readonly parentId: string
      readonly submitter: string
      readonly idempotencyId: string
      /** The map's spec; its inputs are ignored: each map job gets its shard's. */
      readonly spec: JobSpec
      readonly shards: readonly (readonly JobFile[])[]
      readonly reduceCode: string | null
    }
  | { readonly type: 'parent.cancel'; readonly parentId: string; readonly by: string }
  /** A training job: a parent whose shards run `rounds` times, each round aggregated by
   * `aggregateCode` (node/training/aggregate.py). */
  | {
      readonly type: 'training.submit'
      readonly parentId: string
      readonly submitter: string
      readonly idempotencyId: string
      /** The train job's spec; its inputs are ignored: each shard job gets its shard's. */
      readonly spec: JobSpec
      readonly shards: readonly (readonly JobFile[])[]
      readonly aggregateCode: string
      readonly rounds: number
      readonly minShards: number
      readonly roundTimeoutS: number | null
      readonly aggregate: AggregateRule
      readonly samples: readonly number[] | null
    }
  /** The coordinator closes a training round whose deadline passed (in log time). */
  | { readonly type: 'training.close-round'; readonly parentId: string; readonly round: number }
  | { readonly type: 'job.expire'; readonly jobId: string }
  | { readonly type: 'policy.set'; readonly policy: MeshPolicy }
  | {
      readonly type: 'mesh.genesis'
      readonly meshId: string
      readonly policy: MeshPolicy
      readonly founder: string
      readonly owner: string
      readonly voterTarget: number
      readonly secrets: { readonly voter: string; readonly executor: string }
    }
  | {
      readonly type: 'mesh.rotate-secret'
      readonly role: JoinRole
      readonly hash: string
      /** A member's own secret; without it, the mesh's (the founder's) secret is replaced. */
      readonly issuer?: string
    }
  | {
      readonly type: 'mesh.rotate-owner-secret'
      readonly issuer: string
      readonly role: JoinRole
      readonly hash: string
    }
  | {
      readonly type: 'peer.admit'
      readonly peer: string
      readonly owner: string
      readonly roles: readonly JoinRole[]
    }
  | { readonly type: 'peer.address'; readonly peer: string; readonly addresses: readonly string[] }
  /** The peer leaves the mesh for good (`gridx leave`): no longer admitted, its jobs requeued. */
  | { readonly type: 'peer.remove'; readonly peer: string }

/**
 * Names a proposal so that it takes effect at most once, however often it reaches the log
 * (a duplicated forward, a retry after a lost answer): the Raft thesis's client sessions
 * (section 6.3). A retry must reuse all four fields.
 */
export interface ProposalId {
  /** The proposer's session: unique across the mesh and never reused. The daemon uses
   * `${peerId}/${incarnation}/${epoch}`, incarnation counting the daemon's starts and epoch the
   * sessions it opened since. A session starts with its proposal of sequence 1. */
  readonly session: string
  /** 1, 2, 3, … within the session, in the order the proposer made its proposals. */
  readonly sequence: number
  /** The proposer has seen the result of every sequence of this session at or below this one,
   * so the state may drop those results (it still answers them "already applied"). */
  readonly acknowledged: number
  /** Log time (ms) at which the proposer first made it: a session's first proposal stamped
   * longer than SESSION_IDLE_MS ago is refused, so an expired session never starts again. */
  readonly proposedAt: number
}

/** What the state keeps of one proposer session. */
export interface Session {
  /** Every sequence at or below it was acknowledged: a duplicate gets "already applied". */
  floor: number
  /** Results of applied sequences above the floor (without `replayed`), for duplicates. At
   * most SESSION_PROPOSALS_IN_FLIGHT_MAX of them. */
  readonly results: Map<number, ApplyResult>
  /** Log time of the session's latest proposal: it expires SESSION_IDLE_MS after it. */
  activeAt: number
}

/** One log entry: the coordinator stamps `logTime`; apply never reads a clock. */
export interface Entry {
  readonly index: number
  readonly logTime: number
  readonly proposal: ProposalId
  readonly command: Command
}

export interface ApplyError {
  readonly name: ErrorName
  readonly message: string
  readonly data?: Readonly<Record<string, unknown>>
}

/** The outcome of applying one entry. A refused command changes nothing (but is remembered
 * under its proposal id). `replayed` marks an answer to a duplicate: its first result, or a
 * CONFLICT with `data.reason` "already-applied" once the proposer acknowledged it. */
export type ApplyResult =
  | { readonly ok: true; readonly value: unknown; readonly replayed?: true }
  | { readonly ok: false; readonly error: ApplyError; readonly replayed?: true }
