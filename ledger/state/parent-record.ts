// A new parent's record, running with no child yet: what a sharded and a training submission
// share. The caller holds the escrow and starts the children.
import { submissionKey } from './jobs.ts'
import type { Command, Parent, State } from './types.ts'

type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>

/** What a new parent holds beyond what every submission's command gives. */
type ParentSettings = Pick<Parent, 'reduceCode' | 'hasReduce' | 'maxPriceMc' | 'training'>

/** Adds the parent to the state and records its submission's idempotency id, so a replay
 * finds it. */
export function createParent(
  state: State,
  command: CommandOf<'parent.submit' | 'training.submit'>,
  settings: ParentSettings,
): Parent {
  const { code, ...spec } = command.spec
  const map: Parent['map'] = { ...spec }
  delete (map as { inputs?: unknown }).inputs
  const parent: Parent = {
    id: command.parentId,
    submitter: command.submitter,
    idempotencyId: command.idempotencyId,
    map,
    mapCode: code,
    reduceCode: settings.reduceCode,
    hasReduce: settings.hasReduce,
    shards: command.shards.map((inputs) => ({ inputs, jobs: [] })),
    reduce: null,
    state: 'running',
    maxPriceMc: settings.maxPriceMc,
    reservedMc: 0,
    createdAt: state.logTime,
    finishedAt: null,
    reason: null,
    // Absent, not undefined, on a sharded job, so its encoding and hash carry no such key.
    ...(settings.training === undefined ? {} : { training: settings.training }),
  }
  state.parents.set(parent.id, parent)
  state.submissions.set(submissionKey(parent.submitter, parent.idempotencyId), parent.id)
  return parent
}
