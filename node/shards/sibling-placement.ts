// The scheduler's placement hook for sharded jobs: shards run on distinct executors where the
// mesh has enough, and a retried shard runs on an executor it has not failed on.
import { childrenOf } from '../../ledger/index.ts'
import type { Job, State } from '../../ledger/index.ts'

/** An executor the shard failed on weighs more than any number of siblings. */
const FAILED_HERE_WEIGHT = 1_000_000

/** Made for one pass of the scheduler over the queue: it also counts the assignments the pass
 * made, which the state does not show yet. */
export class SiblingPlacement {
  readonly #state: State
  /** `${parentId}\n${peer}` → siblings placed there during this pass. */
  readonly #placed = new Map<string, number>()

  constructor(state: State) {
    this.#state = state
  }

  /** How much worse `peer` is for `job` than an executor with no sibling of it: 0 for a job
   * with no parent. Ties are the scheduler's to break (by free CPU). */
  penalty(job: Job, peer: string): number {
    if (job.parent === undefined) return 0
    const parent = this.#state.parents.get(job.parent.id)
    if (parent === undefined) return 0
    let penalty = this.#placed.get(`${parent.id}\n${peer}`) ?? 0
    for (const id of childrenOf(parent)) {
      const sibling = this.#state.jobs.get(id)
      if (sibling === undefined || sibling.id === job.id || sibling.executor !== peer) continue
      if (sibling.state === 'assigned' || sibling.state === 'running') penalty++
      const sameShard = sibling.parent?.shard === job.parent.shard && job.parent.shard !== null
      if (sameShard && sibling.state !== 'succeeded') penalty += FAILED_HERE_WEIGHT
    }
    return penalty
  }

  placed(job: Job, peer: string): void {
    if (job.parent === undefined) return
    const key = `${job.parent.id}\n${peer}`
    this.#placed.set(key, (this.#placed.get(key) ?? 0) + 1)
  }
}
