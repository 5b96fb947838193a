// The API's `job.submit-training`: the dataset is split here as for a sharded job, each
// shard's rows counted, and one proposal carries the shards with the aggregate script the
// daemon ships. As for every submission, what the state would refuse is refused before it is
// proposed, and before the split, which writes blobs. The parent is then read, listed and
// cancelled by the sharded-job methods (`job.parent`, `job.parents`, `job.cancel-parent`).
import { checkSubmitTraining, parentView } from '../../ledger/index.ts'
import type { ApplyResult, Command, RaftDriver, State } from '../../ledger/index.ts'
import { GridxError } from '../../protocol/index.ts'
import type { JobFile, JobSpec, Params, Results } from '../../protocol/index.ts'
import { splitForSubmit } from '../shards/index.ts'

/** A dataset cut into shards stored on this peer, with each shard's rows. */
export interface TrainingSplit {
  readonly shards: JobFile[][]
  readonly samples: number[]
}

export interface TrainingApiInit {
  readonly ledger: RaftDriver
  /** The state as of the call (ReadIndex); failures are the API's own. */
  readonly read: () => Promise<State>
  readonly propose: (command: Command) => Promise<ApplyResult>
  /** The spec as a plain submission would run it (see ShardApiInit.prepare). */
  readonly prepare: (spec: JobSpec) => JobSpec
  /** Cuts the dataset into shards stored here; absent: this peer has no blob store. Throws
   * ShardSplitError for a dataset that is not split as asked. */
  readonly split?: (inputs: readonly JobFile[], shards: number) => Promise<TrainingSplit>
  /** The aggregate step's code (aggregate-script.ts). */
  readonly aggregateScript: () => Promise<string>
  readonly newJobId: () => string
}

export class TrainingApi {
  readonly #init: TrainingApiInit

  constructor(init: TrainingApiInit) {
    this.#init = init
  }

  async submit(
    params: Params<'job.submit-training'>,
    caller: { readonly account: string },
  ): Promise<Results['job.submit-training']> {
    const spec = this.#init.prepare(params.spec)
    const state = await this.#init.read()
    const command: Command & { type: 'training.submit' } = {
      type: 'training.submit',
      parentId: this.#init.newJobId(),
      submitter: caller.account,
      idempotencyId: params.idempotencyId,
      spec: { ...spec, code: params.spec.code },
      shards: Array.from({ length: params.shards }, () => []),
      aggregateCode: await this.#init.aggregateScript(),
      rounds: params.rounds,
      minShards: params.minShards ?? params.shards,
      roundTimeoutS: params.roundTimeoutS ?? null,
      aggregate: params.aggregate ?? 'fedavg',
      samples: null,
    }
    const early = checkSubmitTraining(state, command)
    let result = early
    if (result === null) {
      const split = await splitForSubmit(this.#init.split, spec.inputs ?? [], params.shards)
      result = await this.#init.propose({ ...command, ...split })
    }
    if (!result.ok) throw new GridxError(result.error.name, result.error.message, result.error.data)
    const { parentId, created } = result.value as { parentId: string; created: boolean }
    const parent = this.#init.ledger.localRead().parents.get(parentId)
    if (parent === undefined || parent.submitter !== caller.account) {
      throw new GridxError('NOT_FOUND', `no training job ${parentId}`)
    }
    return { parent: parentView(this.#init.ledger.localRead(), parent), created }
  }
}
