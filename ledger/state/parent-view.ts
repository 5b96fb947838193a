// A sharded job in the shape the API returns: its shards, progress and cost.
import type { ParentView } from '../../protocol/index.ts'
import { childrenOf } from './parents.ts'
import { trainingView } from './training-view.ts'
import type { Job, Parent, State } from './types.ts'

export function parentView(state: State, parent: Parent): ParentView {
  const job = (id: string) => state.jobs.get(id) as Job
  const shards = parent.shards.map((shard, index) => ({
    index,
    inputs: shard.inputs,
    jobs: [...shard.jobs],
    state: job(shard.jobs.at(-1) as string).state,
  }))
  return {
    id: parent.id,
    submitter: parent.submitter,
    state: parent.state,
    shards,
    reduce: parent.reduce,
    hasReduce: parent.hasReduce,
    shardsDone: shards.filter((shard) => shard.state === 'succeeded').length,
    costMc: childrenOf(parent).reduce((sum, id) => sum + (job(id).priceMc ?? 0), 0),
    maxPriceMc: parent.maxPriceMc,
    createdAt: parent.createdAt,
    finishedAt: parent.finishedAt,
    reason: parent.reason,
    ...(parent.training !== undefined
      ? { training: trainingView(state, parent, parent.training) }
      : {}),
  }
}

/** The account's sharded jobs, newest first, at most `limit`. */
export function listParents(state: State, account: string, limit: number): ParentView[] {
  const out: ParentView[] = []
  const all = [...state.parents.values()]
  for (let at = all.length - 1; at >= 0 && out.length < limit; at--) {
    const parent = all[at] as Parent
    if (parent.submitter === account) out.push(parentView(state, parent))
  }
  return out
}
