// The API's sharded-job methods: submit (split here, then one proposal), get, list, cancel.
// Like the rest of the API, what the state would refuse is refused before it is proposed.
import { checkSubmitParent, listParents, parentView } from '../../ledger/index.ts'
import type { ApplyResult, Command, Parent, RaftDriver, State } from '../../ledger/index.ts'
import { GridxError } from '../../protocol/index.ts'
import type { JobFile, JobSpec, Params, Results } from '../../protocol/index.ts'
import { ShardSplitError } from './split-dataset.ts'

export interface ShardApiInit {
  readonly ledger: RaftDriver
  /** The state as of the call (ReadIndex); failures are the API's own. */
  readonly read: () => Promise<State>
  readonly propose: (command: Command) => Promise<ApplyResult>
  /** The spec as a plain submission would run it: resources capped, its inputs on this peer
   * and an executor for its runtime; throws the API's errors otherwise. */
  readonly prepare: (spec: JobSpec) => JobSpec
  /** Cuts the dataset into shards stored on this peer; absent: this peer has no blob store. */
  readonly split?: (inputs: readonly JobFile[], shards: number) => Promise<JobFile[][]>
  readonly newJobId: () => string
}

interface Caller {
  readonly account: string
}

export class ShardApi {
  readonly #init: ShardApiInit

  constructor(init: ShardApiInit) {
    this.#init = init
  }

  async submit(
    params: Params<'job.submit-sharded'>,
    caller: Caller,
  ): Promise<Results['job.submit-sharded']> {
    const spec = this.#init.prepare(params.spec)
    const state = await this.#init.read()
    const command: Command & { type: 'parent.submit' } = {
      type: 'parent.submit',
      parentId: this.#init.newJobId(),
      submitter: caller.account,
      idempotencyId: params.idempotencyId,
      spec: { ...spec, code: params.spec.code },
      shards: Array.from({ length: params.shards }, () => []),
      reduceCode: params.reduceCode ?? null,
    }
    // A replay or a refusal (funds, queue) is answered before splitting, which writes blobs.
    const early = checkSubmitParent(state, command)
    const result =
      early ??
      (await this.#init.propose({
        ...command,
        shards: await splitForSubmit(this.#init.split, spec.inputs ?? [], params.shards),
      }))
    if (!result.ok) throw new GridxError(result.error.name, result.error.message, result.error.data)
    const { parentId, created } = result.value as { parentId: string; created: boolean }
    return { parent: this.#view(this.#init.ledger.localRead(), parentId, caller), created }
  }

  async get(params: Params<'job.parent'>, caller: Caller): Promise<Results['job.parent']> {
    return this.#view(await this.#init.read(), params.id, caller)
  }

  async list(params: Params<'job.parents'>, caller: Caller): Promise<Results['job.parents']> {
    return { parents: listParents(await this.#init.read(), caller.account, params.limit) }
  }

  async cancel(
    params: Params<'job.cancel-parent'>,
    caller: Caller,
  ): Promise<Results['job.cancel-parent']> {
    const parent = this.#own(await this.#init.read(), params.id, caller)
    if (parent.state === 'running') {
      const command: Command = { type: 'parent.cancel', parentId: parent.id, by: caller.account }
      const result = await this.#init.propose(command)
      if (!result.ok) {
        throw new GridxError(result.error.name, result.error.message, result.error.data)
      }
    } else if (parent.state !== 'cancelled') {
      throw new GridxError('INVALID_STATE', `job already ended: ${parent.state}`)
    }
    return this.#view(this.#init.ledger.localRead(), params.id, caller)
  }

  #own(state: State, id: string, caller: Caller): Parent {
    const parent = state.parents.get(id)
    if (parent === undefined || parent.submitter !== caller.account) {
      throw new GridxError('NOT_FOUND', `no sharded job ${id}`, { field: 'id' })
    }
    return parent
  }

  #view(state: State, id: string, caller: Caller) {
    return parentView(state, this.#own(state, id, caller))
  }
}

/** Cuts `inputs` with `split` for a submission; the sharded and the training submit share it.
 * Throws UNAVAILABLE when `split` is absent (this peer keeps no files) and INVALID_PARAMS,
 * naming spec.inputs, for a dataset that cannot be split as asked (ShardSplitError). */
export async function splitForSubmit<T>(
  split: ((inputs: readonly JobFile[], shards: number) => Promise<T>) | undefined,
  inputs: readonly JobFile[],
  shards: number,
): Promise<T> {
  if (split === undefined) {
    throw new GridxError('UNAVAILABLE', 'this peer keeps no files, so it cannot split a dataset')
  }
  try {
    return await split(inputs, shards)
  } catch (error) {
    if (!(error instanceof ShardSplitError)) throw error
    throw new GridxError('INVALID_PARAMS', error.message, { field: 'spec.inputs' })
  }
}
