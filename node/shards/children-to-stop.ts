// Which running containers a sharded job's end leaves without a job: when a parent ends (it
// is cancelled, or a shard failed past its retries), the entry that ended it cancelled its open
// children in the state, and the executors running them must be told to kill them.
import type { Command, Job, State } from '../../ledger/index.ts'
import { cutToStop } from '../training/index.ts'

/** The children the applied `command` cancelled by ending their parent; empty when it ended
 * none. A child that was running holds an executor's container until it is told. */
export function childrenToStop(state: State, command: Command): string[] {
  const parentId =
    command.type === 'parent.cancel' || command.type === 'training.close-round'
      ? command.parentId
      : 'jobId' in command
        ? state.jobs.get(command.jobId)?.parent?.id
        : undefined
  const parent = parentId === undefined ? undefined : state.parents.get(parentId)
  // A training round closed at its deadline cut its stragglers, whether or not the parent ended.
  if (parent !== undefined && command.type === 'training.close-round') {
    return cutToStop(state, parent, command.round)
  }
  if (parent === undefined || parent.state === 'running' || parent.finishedAt === null) return []
  const ended: string[] = []
  for (const id of [...parent.shards.flatMap((shard) => shard.jobs), parent.reduce]) {
    const job = id === null ? undefined : (state.jobs.get(id) as Job | undefined)
    // Cancelled at the parent's end, after it had been given to an executor.
    if (job?.state !== 'cancelled' || job.finishedAt !== parent.finishedAt) continue
    if (job.assignedAt !== null) ended.push(job.id)
  }
  return ended
}
