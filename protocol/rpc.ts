// The client API: JSON-RPC 2.0 methods, their parameter schemas and result types. The same
// table serves the WebSocket and `POST /api/v1/rpc`; the CLI and the PWA use nothing else.
import { z } from 'zod'
import type { BalanceView, MeshPolicy, TransferView } from './account.ts'
import { idempotencyIdSchema, JOB_STATES, jobIdSchema, jobSpecSchema } from './job.ts'
import type { JobResult, JobState, JobView } from './job.ts'
import { JOIN_ROLES } from './mesh.ts'
import { PAGE_ITEMS_DEFAULT, PAGE_ITEMS_MAX } from './limits.ts'
import { shardedSubmitSchema } from './shard.ts'
import type { ParentView } from './shard.ts'
import { trainingSubmitSchema } from './training.ts'

export const API_PATH = '/api/v1/rpc'
export const WS_PATH = '/api/v1/ws'

const page = {
  limit: z.number().int().min(1).max(PAGE_ITEMS_MAX).default(PAGE_ITEMS_DEFAULT),
}
const empty = z.object({}).strict()

export const SUBSCRIPTION_TOPICS = ['jobs', 'logs', 'balance', 'peers'] as const
export type SubscriptionTopic = (typeof SUBSCRIPTION_TOPICS)[number]

/** Parameter schemas by method. A method not in this table does not exist. */
export const paramsSchemas = {
  'job.submit': z.object({ idempotencyId: idempotencyIdSchema, spec: jobSpecSchema }).strict(),
  'job.quote': z.object({ spec: jobSpecSchema }).strict(),
  'job.get': z.object({ id: jobIdSchema }).strict(),
  'job.list': z
    .object({
      state: z.enum(JOB_STATES).optional(),
      /** Only jobs created before this job id's position (newest first paging). */
      before: jobIdSchema.optional(),
      ...page,
    })
    .strict(),
  'job.cancel': z.object({ id: jobIdSchema, idempotencyId: idempotencyIdSchema }).strict(),
  'job.logs': z.object({ id: jobIdSchema }).strict(),
  /** A sharded job (protocol/shard.ts): the dataset is split on the peer it is submitted to. */
  'job.submit-sharded': shardedSubmitSchema,
  /** A training job (protocol/training.ts): a sharded job run round after round, its rounds
   * shown by `job.parent` under `training`. */
  'job.submit-training': trainingSubmitSchema,
  'job.parent': z.object({ id: jobIdSchema }).strict(),
  'job.parents': z.object({ ...page }).strict(),
  'job.cancel-parent': z.object({ id: jobIdSchema, idempotencyId: idempotencyIdSchema }).strict(),
  'account.balance': empty,
  'account.history': z.object({ before: z.number().int().min(0).optional(), ...page }).strict(),
  'mesh.info': empty,
  'mesh.peers': empty,
  /** This peer's replica at its applied index (a local read): its hash, to compare replicas. */
  'mesh.state': empty,
  /** The join token this peer issues (owner only); `rotate` replaces it for new joins;
   * `sameOwner` issues the one whose joiner is admitted with this peer's owner. */
  'mesh.token': z
    .object({
      role: z.enum(JOIN_ROLES).default('executor'),
      rotate: z.boolean().default(false),
      sameOwner: z.boolean().default(false),
    })
    .strict(),
  /** This peer leaves the mesh for good (owner only); its daemon stops once it has. */
  'mesh.leave': empty,
  subscribe: z
    .object({
      topic: z.enum(SUBSCRIPTION_TOPICS),
      /** For `jobs`: one job only (all of this account's jobs when absent). For `logs`: required. */
      id: jobIdSchema.optional(),
    })
    .strict(),
  unsubscribe: z.object({ subscription: z.string().min(1).max(64) }).strict(),
} as const

export type Method = keyof typeof paramsSchemas
export type ParamsInput<M extends Method> = z.input<(typeof paramsSchemas)[M]>
export type Params<M extends Method> = z.output<(typeof paramsSchemas)[M]>

export interface JobLogs {
  readonly id: string
  readonly state: JobState
  readonly stdout: string
  readonly stderr: string
  readonly result: JobResult | null
}

export interface PeerView {
  readonly peerId: string
  readonly owner: string
  readonly roles: readonly ('peer' | 'voter' | 'coordinator' | 'executor')[]
  readonly addresses: readonly string[]
  readonly reachable: boolean
  readonly self: boolean
  readonly capacity: {
    readonly cpus: number
    readonly memoryMb: number
    readonly runtimes: readonly string[]
  } | null
  readonly load: {
    readonly runningJobs: number
    readonly cpusInUse: number
    readonly memoryMbInUse: number
  } | null
  /** Why this peer cannot run jobs, if it cannot. */
  readonly executorProblem: string | null
  /** When the coordinator last had this peer's heartbeat (ms since the epoch); null if never.
   * Absent from a peer that is not part of a mesh, and from every other peer when the
   * coordinator could not be asked (its capacity and load are then not known either). */
  readonly lastHeartbeatMs?: number | null
}

/** One member of the Raft group as the coordinator sees it (autopilot's health rules). */
export interface MeshMemberView {
  readonly peerId: string
  readonly role: 'voter' | 'learner'
  /** Reachable and caught up, by the autopilot's rules. */
  readonly healthy: boolean
  /** The highest log index known to be replicated on it. */
  readonly matchIndex: number
  /** When the coordinator last heard from it (ms since the epoch); null if never. */
  readonly lastContactMs: number | null
}

export interface MeshInfo {
  readonly meshId: string
  readonly peerId: string
  readonly owner: string
  readonly coordinator: string | null
  readonly term: number
  readonly appliedIndex: number
  readonly version: string
  readonly policy: MeshPolicy
  readonly queueLength: number
  readonly jobsByState: Readonly<Record<JobState, number>>
  /** Fields of a mesh of several machines; absent from a one-machine peer. */
  readonly commitIndex?: number
  /** Voters the mesh keeps (1, 3 or 5). */
  readonly voterTarget?: number
  /** Every voter and learner, as the coordinator last reported them. */
  readonly members?: readonly MeshMemberView[]
  /** Present when the coordinator's view could not be had on this peer: why. The members'
   * `healthy` and `lastContactMs` then say nothing and are not to be shown as health. */
  readonly membersUnknown?: string
}

/** What `mesh.leave` answers once this peer's `peer.remove` is committed. */
export interface MeshLeft {
  readonly meshId: string
  readonly peerId: string
  /** Whether this peer was the coordinator and handed leadership to another voter first. */
  readonly handedOver: boolean
  /** Jobs this peer's executor held, back in the queue for other executors. */
  readonly requeuedJobs: number
}

/** One replica's state at the index it has applied, read locally (no ReadIndex): replicas
 * that report the same appliedIndex must report the same stateHash. */
export interface MeshStateView {
  readonly appliedIndex: number
  /** SHA-256 (hex) of the canonical encoding of the replicated state at appliedIndex. */
  readonly stateHash: string
  /** The ledger's broken invariants at appliedIndex, in words (accounts that do not sum to
   * zero, one below zero but the mint, escrow that does not match open jobs); empty when the
   * ledger adds up. */
  readonly ledgerViolations: readonly string[]
}

/** Result types by method. */
export interface Results {
  'job.submit': { readonly job: JobView; readonly created: boolean }
  'job.quote': {
    readonly maxPriceMc: number
    readonly availableMc: number
    readonly policy: MeshPolicy
  }
  'job.get': JobView
  'job.list': { readonly jobs: readonly JobView[] }
  'job.cancel': JobView
  'job.logs': JobLogs
  'job.submit-sharded': { readonly parent: ParentView; readonly created: boolean }
  'job.submit-training': { readonly parent: ParentView; readonly created: boolean }
  'job.parent': ParentView
  'job.parents': { readonly parents: readonly ParentView[] }
  'job.cancel-parent': ParentView
  'account.balance': BalanceView & { readonly availableMc: number }
  'account.history': { readonly transfers: readonly TransferView[] }
  'mesh.info': MeshInfo
  'mesh.peers': {
    readonly peers: readonly PeerView[]
    /** Present when the coordinator's view could not be had on this peer: why. Other peers'
     * capacity, load and last heartbeat are then not known here (null, absent). */
    readonly executorsUnknown?: string
  }
  'mesh.state': MeshStateView
  'mesh.token': { readonly token: string }
  'mesh.leave': MeshLeft
  subscribe: { readonly subscription: string }
  unsubscribe: { readonly removed: boolean }
}

/** Events pushed to a subscription, as `{"method":"subscription","params":{subscription,event}}`. */
export type SubscriptionEvent =
  | { readonly topic: 'jobs'; readonly job: JobView }
  | {
      readonly topic: 'logs'
      readonly id: string
      readonly stream: 'stdout' | 'stderr'
      readonly data: string
    }
  | { readonly topic: 'logs'; readonly id: string; readonly end: true; readonly state: JobState }
  | { readonly topic: 'balance'; readonly balance: BalanceView & { readonly availableMc: number } }
  | { readonly topic: 'peers'; readonly peers: readonly PeerView[] }

export const SUBSCRIPTION_METHOD = 'subscription'

/** A request id. A number must be an integer within ±(2^53 − 1): a JSON number past that
 * reaches the daemon already rounded, and could not be echoed as the client sent it. */
const ID_RULE =
  'must be a string of at most 128 characters, null, or an integer within ±(2^53 - 1) ' +
  '(send a larger one as a string)'
export const requestIdSchema = z.union(
  [z.string().max(128, ID_RULE), z.number().refine(Number.isSafeInteger, ID_RULE), z.null()],
  { error: ID_RULE },
)

/** The JSON-RPC 2.0 request envelope. Without an id it is a notification: run, never answered.
 * Params, when present, are structured (an object or an array), as the specification says. */
export const requestEnvelopeSchema = z
  .object({
    jsonrpc: z.literal('2.0'),
    id: requestIdSchema.optional(),
    method: z.string().max(64),
    params: z
      .union([z.record(z.string(), z.unknown()), z.array(z.unknown())], {
        error: 'must be an object or an array',
      })
      .optional(),
  })
  .strict()

export function isMethod(name: string): name is Method {
  return Object.hasOwn(paramsSchemas, name)
}
