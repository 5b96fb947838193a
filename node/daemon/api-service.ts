// The daemon's side of the API: each method reads the replicated state or proposes a command.
// Inputs arrive validated by the gateway; this layer adds what needs the state (funds, caps).
// What the state would refuse is refused here, by the same checks apply runs, before it is
// proposed: a refused or redundant request never costs a log entry.
import { randomBytes } from 'node:crypto'
import {
  balanceView,
  checkCancel,
  checkSubmit,
  historyView,
  jobView,
  ledgerViolations,
  listJobs,
  maxPriceOf,
  stateHash,
} from '../../ledger/index.ts'
import type { ApplyResult, Command, Job, RaftDriver, State } from '../../ledger/index.ts'
import { BLOBS_PATH, GridxError, isFinalJobState } from '../../protocol/index.ts'
import type { JobSpec, Params, Results } from '../../protocol/index.ts'
import type { ExecutorCapacity } from '../coordinator/index.ts'
import type { BackendMethod, CallContext } from '../gateway/index.ts'
import { ShardApi, splitIntoBlobs } from '../shards/index.ts'
import type { ShardBlobStore } from '../shards/index.ts'
import { readAggregateScript, shardRows, TrainingApi } from '../training/index.ts'
import type { JoinTokens } from './join-tokens.ts'

export interface ApiServiceInit {
  readonly ledger: RaftDriver
  /** Capacities of the executors that can run jobs now; null where this peer cannot know
   * them (it is not the coordinator, whose scheduler sees the executors): then a submission
   * is not checked here, and the coordinator keeps the job queued until one can take it. */
  readonly executors: () => readonly ExecutorCapacity[] | null
  /** Why no executor can run jobs, for the error a refused submission shows. */
  readonly executorProblem: () => string | null
  readonly meshInfo: () => Results['mesh.info'] | Promise<Results['mesh.info']>
  readonly meshPeers: () => Results['mesh.peers'] | Promise<Results['mesh.peers']>
  readonly joinTokens: Pick<JoinTokens, 'issue'>
  /** This peer's owner: the only account that may see or rotate its join tokens, or make the
   * peer leave the mesh. */
  readonly owner: string
  /** The size of a blob this peer's store holds, or null: a job's inputs must be uploaded to
   * the peer it is submitted on before it is (absent: no job may have inputs). */
  readonly blobSize?: (cid: string) => number | null
  /** This peer's blob store, where a sharded job's dataset is split (absent: it is not). */
  readonly shardBlobs?: ShardBlobStore
  /** Makes this peer leave the mesh for good (mesh-leave.ts); the daemon stops after. */
  readonly leave: () => Promise<Results['mesh.leave']>
}

type Handler<M extends BackendMethod> = (
  params: Params<M>,
  context: CallContext,
) => Promise<Results[M]>

function newJobId(): string {
  // 60 random bits in base 36: unique without coordination, short enough to type.
  return `j${randomBytes(8).readBigUInt64BE().toString(36).slice(0, 12).padStart(12, '0')}`
}

export class ApiService {
  readonly #init: ApiServiceInit
  readonly #shards: ShardApi
  readonly #training: TrainingApi

  constructor(init: ApiServiceInit) {
    this.#init = init
    const store = init.shardBlobs
    const common = {
      ledger: init.ledger,
      read: () => this.#read(),
      propose: (command: Command) => this.#propose(command),
      prepare: (spec: JobSpec) => {
        const capped = this.#capped(spec)
        this.#requireInputs(capped)
        this.#requireExecutor(capped)
        return capped
      },
      newJobId,
    }
    this.#shards = new ShardApi({
      ...common,
      ...(store !== undefined
        ? { split: (inputs, shards) => splitIntoBlobs(store, inputs, shards) }
        : {}),
    })
    this.#training = new TrainingApi({
      ...common,
      aggregateScript: readAggregateScript,
      ...(store !== undefined
        ? {
            split: async (inputs, shards) => ({
              shards: await splitIntoBlobs(store, inputs, shards),
              samples: await shardRows(store, inputs, shards),
            }),
          }
        : {}),
    })
  }

  readonly handlers: { [M in BackendMethod]: Handler<M> } = {
    'job.submit': async (params, context) => this.#submit(params, context),
    'job.quote': async (params, context) => {
      const spec = this.#capped(params.spec)
      const state = await this.#read()
      return {
        maxPriceMc: maxPriceOf(state, spec),
        availableMc: balanceView(state, context.account).availableMc,
        policy: state.policy,
      }
    },
    'job.get': async (params, context) =>
      jobView(this.#ownJob(await this.#read(), params.id, context)),
    'job.list': async (params, context) => ({
      jobs: listJobs(await this.#read(), context.account, params),
    }),
    'job.cancel': async (params, context) => {
      this.#ownJob(await this.#read(), params.id, context)
      await this.#proposeChecked({ type: 'job.cancel', jobId: params.id, by: context.account })
      return jobView(this.#ownJob(this.#init.ledger.localRead(), params.id, context))
    },
    'job.logs': async (params, context) => {
      const job = this.#ownJob(await this.#read(), params.id, context)
      return {
        id: job.id,
        state: job.state,
        stdout: job.result?.stdoutTail ?? '',
        stderr: job.result?.stderrTail ?? '',
        result: job.result,
      }
    },
    'job.submit-sharded': async (params, context) => this.#shards.submit(params, context),
    'job.submit-training': async (params, context) => this.#training.submit(params, context),
    'job.parent': async (params, context) => this.#shards.get(params, context),
    'job.parents': async (params, context) => this.#shards.list(params, context),
    'job.cancel-parent': async (params, context) => this.#shards.cancel(params, context),
    'account.balance': async (_params, context) => balanceView(await this.#read(), context.account),
    'account.history': async (params, context) => ({
      transfers: historyView(await this.#read(), context.account, params),
    }),
    'mesh.info': async () => this.#init.meshInfo(),
    'mesh.peers': async () => this.#init.meshPeers(),
    'mesh.state': async () => {
      // One synchronous local read: the hash and the index are of the same state.
      const state = this.#init.ledger.localRead()
      return {
        appliedIndex: state.appliedIndex,
        stateHash: stateHash(state),
        ledgerViolations: ledgerViolations(state),
      }
    },
    'mesh.token': async (params, context) => {
      if (context.account !== this.#init.owner) {
        throw new GridxError('UNAUTHORIZED', 'only the owner of this peer may see its join tokens')
      }
      try {
        const { rotate, sameOwner } = params
        return { token: await this.#init.joinTokens.issue(params.role, { rotate, sameOwner }) }
      } catch (error) {
        throw retryable(error)
      }
    },
    'mesh.leave': async (_params, context) => {
      if (context.account !== this.#init.owner) {
        throw new GridxError('UNAUTHORIZED', 'only the owner of this peer may make it leave')
      }
      try {
        return await this.#init.leave()
      } catch (error) {
        if ((error as Error).name === 'LeaveRefusedError') {
          throw new GridxError('INVALID_STATE', (error as Error).message)
        }
        throw retryable(error)
      }
    },
  }

  /** The state with everything committed when the call came in (ReadIndex). During an
   * election it waits (bounded) and then fails UNAVAILABLE, which a client may retry. */
  async #read(): Promise<State> {
    try {
      return await this.#init.ledger.read()
    } catch (error) {
      throw retryable(error)
    }
  }

  /** The job if it exists and belongs to the caller; others' jobs are not found, not refused. */
  #ownJob(state: State, id: string, context: CallContext): Job {
    const job = state.jobs.get(id)
    if (job === undefined || job.submitter !== context.account) {
      throw new GridxError('NOT_FOUND', `no job ${id}`, { field: 'id' })
    }
    return job
  }

  /** Caps resources at what the largest executor offers, so a job can always be placed. */
  #capped(spec: JobSpec): JobSpec {
    const known = this.#init.executors()
    if (known === null) return spec
    const executors = known.filter((e) => e.runtimes.includes(spec.runtime))
    if (executors.length === 0) return spec
    const cpus = Math.max(...executors.map((e) => e.cpus))
    const memoryMb = Math.max(...executors.map((e) => e.memoryMb))
    return { ...spec, cpus: Math.min(spec.cpus, cpus), memoryMb: Math.min(spec.memoryMb, memoryMb) }
  }

  async #submit(
    params: Params<'job.submit'>,
    context: CallContext,
  ): Promise<Results['job.submit']> {
    const result = await this.#proposeChecked({
      type: 'job.submit',
      jobId: newJobId(),
      submitter: context.account,
      idempotencyId: params.idempotencyId,
      spec: this.#capped(params.spec),
    })
    const { jobId, created } = result as { jobId: string; created: boolean }
    return { job: jobView(this.#ownJob(this.#init.ledger.localRead(), jobId, context)), created }
  }

  /** Runs apply's own check first: a refusal is thrown and a no-op answered without
   * proposing; only a command that would change the state reaches the log (and apply checks
   * it again there, against the state as it is then). Resolves with the result's value. */
  async #proposeChecked(command: Command & { type: 'job.submit' | 'job.cancel' }) {
    const state = await this.#read()
    const checked =
      command.type === 'job.submit' ? checkSubmit(state, command) : checkCancel(state, command)
    if (checked === null && command.type === 'job.submit') {
      this.#requireInputs(command.spec)
      this.#requireExecutor(command.spec)
    }
    const result: ApplyResult = checked ?? (await this.#propose(command))
    if (!result.ok) throw new GridxError(result.error.name, result.error.message, result.error.data)
    return result.value
  }

  async #propose(command: Command): Promise<ApplyResult> {
    try {
      return await this.#init.ledger.propose(command)
    } catch (error) {
      throw retryable(error)
    }
  }

  /** Every input is in this peer's store, at the size the spec says: then whichever executor
   * runs the job can fetch it from here. */
  #requireInputs(spec: JobSpec): void {
    const inputs = spec.inputs ?? []
    for (const [at, input] of inputs.entries()) {
      const size = this.#init.blobSize?.(input.cid) ?? null
      if (size === input.size) continue
      const field = `spec.inputs.${at}`
      if (size === null) {
        throw new GridxError(
          'INVALID_PARAMS',
          `input ${input.name} (${input.cid}) was not uploaded to this peer: ` +
            `PUT it to ${BLOBS_PATH}/${input.cid} first`,
          { field },
        )
      }
      throw new GridxError(
        'INVALID_PARAMS',
        `input ${input.name} is ${size} bytes, not the ${input.size} the spec says`,
        { field },
      )
    }
  }

  #requireExecutor(spec: JobSpec): void {
    const known = this.#init.executors()
    if (known === null || known.some((e) => e.runtimes.includes(spec.runtime))) return
    const problem = this.#init.executorProblem()
    throw new GridxError(
      'UNAVAILABLE',
      `no peer in this mesh can run ${spec.runtime} jobs now` + (problem ? `: ${problem}` : ''),
      { field: 'spec.runtime' },
    )
  }
}

/** The driver's retryable failures (no leader, overload) become UNAVAILABLE on the wire. */
function retryable(error: unknown): unknown {
  if (error instanceof Error && (error as { retryable?: boolean }).retryable === true) {
    return new GridxError('UNAVAILABLE', error.message)
  }
  return error
}

export function isJobOpen(job: Job): boolean {
  return !isFinalJobState(job.state)
}
