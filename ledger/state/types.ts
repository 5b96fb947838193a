// The replicated state and the commands that change it. Every field is plain data so that
// replicas that applied the same entries encode to the same bytes (see snapshot.ts).
import type {
  ErrorName,
  JobResult,
  JobSpec,
  JobState,
  MeshPolicy,
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
}

export interface ExecutorRegistration {
  readonly peer: string
  readonly owner: string
}

export interface State {
  policy: MeshPolicy
  readonly accounts: Map<string, Account>
  readonly transfers: Transfer[]
  readonly transferIds: Map<string, number>
  readonly jobs: Map<string, Job>
  /** Job ids in creation order. */
  readonly jobOrder: string[]
  /** Ids of jobs not in a final state, in creation order. Derived (not in snapshots): it lets
   * the scheduler and the limits look at open jobs without walking the whole history. */
  readonly unfinished: Set<string>
  /** `${submitter}\n${idempotencyId}` → job id: replays find the first job. */
  readonly submissions: Map<string, string>
  /** Queued job ids, first to run first. */
  readonly queue: string[]
  readonly executors: Map<string, ExecutorRegistration>
  /** Proposal id → what it returned, in apply order; bounded by the window and count in
   * protocol/limits.ts (see proposals.ts). Part of snapshots: replicas must agree on it. */
  readonly proposals: Map<string, AppliedProposal>
  /** Newest `proposedAt` among proposals forgotten so far: anything stamped at or before it is
   * refused, since its id may be one of them. */
  proposalFloor: number
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
  | { readonly type: 'job.expire'; readonly jobId: string }
  | { readonly type: 'policy.set'; readonly policy: MeshPolicy }

/**
 * Names a proposal so that it takes effect at most once, however often it reaches the log
 * (a duplicated forward, a retry after a lost answer). A retry must reuse both fields.
 */
export interface ProposalId {
  /** Unique across the mesh and never reused: the daemon uses
   * `${peerId}/${incarnation}/${sequence}`, incarnation counting the daemon's starts. */
  readonly id: string
  /** Log time (ms) at which the proposer first made it; the window is counted from here. */
  readonly proposedAt: number
}

export interface AppliedProposal {
  readonly proposedAt: number
  /** The result the proposal got the first time (without `replayed`). */
  readonly result: ApplyResult
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
 * under its proposal id). `replayed` marks the first result given again to a duplicate. */
export type ApplyResult =
  | { readonly ok: true; readonly value: unknown; readonly replayed?: true }
  | { readonly ok: false; readonly error: ApplyError; readonly replayed?: true }
