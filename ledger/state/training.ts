// Training jobs (protocol/training.ts): a parent whose shards run the train script round after
// round. A round closes when every shard is in, or at its deadline with at least minShards
// in, the stragglers cut off unpaid; the aggregate job then combines the shards' weights, and
// its global model is the next round's starting point. The whole run is escrowed up front, as
// a sharded job is (parents.ts), and what was not used is refunded when the parent ends.
import {
  GLOBAL_DIR,
  isFinalJobState,
  JOB_INPUTS_BYTES_MAX,
  JOB_INPUTS_MAX,
  SHARD_RETRIES_MAX,
  TRAINING_ENV,
  TRIM_FRACTION_DEFAULT,
} from '../../protocol/index.ts'
import type { JobFile } from '../../protocol/index.ts'
import { createJob } from './job-record.ts'
import { cancelUnpaid } from './jobs.ts'
import { canFund, end, fund } from './parents.ts'
import { fail, ok } from './result.ts'
import { metricsOfRound } from './training-view.ts'
import type { ApplyResult, Command, Job, Parent, State, Training, TrainingRound } from './types.ts'

type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>

/** The files of a shard's outputs the aggregate reads: its weights and its sample count. */
const AGGREGATE_INPUTS = new Set(['weights.npz', 'weights.pt', 'samples.json'])

export function shardEnv(round: number, rounds: number, shard: number, shards: number) {
  return {
    [TRAINING_ENV.round]: String(round),
    [TRAINING_ENV.rounds]: String(rounds),
    [TRAINING_ENV.shard]: String(shard),
    [TRAINING_ENV.shards]: String(shards),
  }
}

function currentRound(parent: Parent): TrainingRound {
  return (parent.training as Training).history.at(-1) as TrainingRound
}

/** Opens the next round: a train job per shard, with the previous round's global model. */
export function openRound(state: State, parent: Parent, global: readonly JobFile[]): void {
  const training = parent.training as Training
  const round: TrainingRound = {
    index: training.history.length + 1,
    state: 'running',
    openedAt: state.logTime,
    closedAt: null,
    jobs: parent.shards.map(() => []),
    cut: [],
    aggregate: null,
  }
  training.history.push(round)
  for (const [index, shard] of parent.shards.entries()) {
    const inputs = [...shard.inputs, ...global]
    const bytes = inputs.reduce((sum, file) => sum + file.size, 0)
    if (inputs.length > JOB_INPUTS_MAX || bytes > JOB_INPUTS_BYTES_MAX) {
      const why = `shard ${index} with the global model (${inputs.length} files, ${bytes} bytes)`
      return end(state, parent, 'failed', `${why} exceeds a job's inputs`)
    }
  }
  for (const index of parent.shards.keys()) {
    if (!canFund(state, parent)) {
      return end(state, parent, 'failed', `no credits for round ${round.index}`)
    }
    fund(state, parent, startShard(state, parent, round, index, global))
  }
}

/** Creates the next train job of shard `index` in `round` (its first run, or a retry). */
function startShard(
  state: State,
  parent: Parent,
  round: TrainingRound,
  index: number,
  global: readonly JobFile[],
): Job {
  const training = parent.training as Training
  const shard = parent.shards[index] as Parent['shards'][number]
  const runs = round.jobs[index] as string[]
  const run = runs.length
  const env = {
    ...parent.map.env,
    ...shardEnv(round.index, training.rounds, index, parent.shards.length),
  }
  const job = createJob(state, {
    id: `${parent.id}t${round.index}s${index}${run === 0 ? '' : `r${run}`}`,
    submitter: parent.submitter,
    idempotencyId: `${parent.idempotencyId}:t${round.index}:s${index}:${run}`,
    spec: {
      ...parent.map,
      env,
      code: parent.mapCode as string,
      inputs: [...shard.inputs, ...global],
    },
    parent: { id: parent.id, shard: index },
  })
  runs.push(job.id)
  shard.jobs.push(job.id)
  return job
}

/** The previous round's global model as the next round's inputs, under `global/`. */
function globalOf(state: State, round: TrainingRound): JobFile[] {
  const aggregate = state.jobs.get(round.aggregate as string) as Job
  return (aggregate.result?.outputs ?? []).filter((file) => file.name.startsWith(`${GLOBAL_DIR}/`))
}

/** Called by parents.ts for a child of a running training job that reached a final state. */
export function trainingChildEnded(state: State, parent: Parent, job: Job): void {
  const round = currentRound(parent)
  const shard = (job.parent as NonNullable<Job['parent']>).shard
  if (shard === null) return aggregateEnded(state, parent, round, job)
  // A job of a round already closed (a straggler cut) moves nothing.
  if (round.state !== 'running' || round.jobs[shard]?.at(-1) !== job.id) return
  if (job.state === 'cancelled') return end(state, parent, 'cancelled', `${job.id} was cancelled`)
  if (job.state !== 'succeeded' && (round.jobs[shard] as string[]).length <= SHARD_RETRIES_MAX) {
    if (canFund(state, parent)) {
      return fund(
        state,
        parent,
        startShard(state, parent, round, shard, previousGlobal(state, parent)),
      )
    }
  }
  decide(state, parent, round)
}

function previousGlobal(state: State, parent: Parent): JobFile[] {
  const history = (parent.training as Training).history
  const previous = history.at(-2)
  return previous === undefined ? [] : globalOf(state, previous)
}

function latestJobs(state: State, round: TrainingRound): Job[] {
  return round.jobs.map((runs) => state.jobs.get(runs.at(-1) as string) as Job)
}

/** After a shard's job ended: close the round once no shard is open and enough succeeded;
 * fail the parent once too few can still succeed. */
function decide(state: State, parent: Parent, round: TrainingRound): void {
  const { minShards } = parent.training as Training
  const latest = latestJobs(state, round)
  const succeeded = latest.filter((job) => job.state === 'succeeded').length
  const open = latest.filter((job) => !isFinalJobState(job.state)).length
  if (succeeded + open < minShards) {
    return end(state, parent, 'failed', tooFew(round, succeeded, latest.length, minShards))
  }
  if (open === 0) closeRound(state, parent, round)
}

function tooFew(round: TrainingRound, succeeded: number, shards: number, minShards: number) {
  return (
    `round ${round.index}: ${succeeded} of ${shards} shards succeeded, ` +
    `fewer than the ${minShards} it needs`
  )
}

/** Closes the round: cuts its open shards (cancelled, not paid) and starts its aggregate
 * over the shards that succeeded. */
function closeRound(state: State, parent: Parent, round: TrainingRound): void {
  round.state = 'aggregating'
  round.closedAt = state.logTime
  const latest = latestJobs(state, round)
  cutStragglers(state, round, latest)
  const inputs: JobFile[] = latest.flatMap((job, index) =>
    job.state !== 'succeeded'
      ? []
      : (job.result?.outputs ?? [])
          .filter((file) => AGGREGATE_INPUTS.has(file.name))
          .map((file) => ({ ...file, name: `${index}/${file.name}` })),
  )
  const bytes = inputs.reduce((sum, file) => sum + file.size, 0)
  if (inputs.length > JOB_INPUTS_MAX || bytes > JOB_INPUTS_BYTES_MAX) {
    const why = `the shards' weights (${inputs.length} files, ${bytes} bytes) exceed a job's inputs`
    return end(state, parent, 'failed', why)
  }
  if (!canFund(state, parent)) {
    return end(state, parent, 'failed', `no credits for round ${round.index}'s aggregate`)
  }
  const training = parent.training as Training
  const aggregate = createJob(state, {
    id: `${parent.id}t${round.index}a`,
    submitter: parent.submitter,
    idempotencyId: `${parent.idempotencyId}:t${round.index}:aggregate`,
    spec: {
      ...parent.map,
      env: {
        [TRAINING_ENV.aggregate]: training.aggregate,
        [TRAINING_ENV.trimFraction]: String(TRIM_FRACTION_DEFAULT),
        [TRAINING_ENV.round]: String(round.index),
        [TRAINING_ENV.roundMetrics]: JSON.stringify(metricsOfRound(state, training, round)),
      },
      code: parent.reduceCode as string,
      ...(inputs.length > 0 ? { inputs } : {}),
    },
    parent: { id: parent.id, shard: null },
  })
  round.aggregate = aggregate.id
  parent.reduce = aggregate.id
  fund(state, parent, aggregate)
}

function cutStragglers(state: State, round: TrainingRound, latest: readonly Job[]): void {
  for (const [index, job] of latest.entries()) {
    if (isFinalJobState(job.state)) continue
    round.cut.push(index)
    cancelUnpaid(state, job, `cut off at round ${round.index}'s deadline`)
  }
}

function aggregateEnded(state: State, parent: Parent, round: TrainingRound, job: Job): void {
  if (round.aggregate !== job.id) return
  if (job.state !== 'succeeded') {
    const why = `round ${round.index}'s aggregate ${job.id} ${job.state}`
    const detail = job.reason !== null ? `${why}: ${job.reason}` : why
    return end(state, parent, job.state === 'cancelled' ? 'cancelled' : 'failed', detail)
  }
  round.state = 'done'
  if (round.index === (parent.training as Training).rounds) {
    return end(state, parent, 'succeeded', null)
  }
  openRound(state, parent, globalOf(state, round))
}

/** When the current round of a running training job closes on its deadline, in log time;
 * null when it waits for every shard or is not open. */
export function roundDeadline(parent: Parent): number | null {
  const training = parent.training
  if (parent.state !== 'running' || training === undefined) return null
  const round = currentRound(parent)
  if (round.state !== 'running' || training.roundTimeoutS === null) return null
  return round.openedAt + training.roundTimeoutS * 1000
}

/** `training.close-round`: the round's deadline passed. With at least minShards in, the
 * stragglers are cut and the round aggregates; with fewer, the parent fails. */
export function closeRoundAtDeadline(
  state: State,
  command: CommandOf<'training.close-round'>,
): ApplyResult {
  const parent = state.parents.get(command.parentId)
  if (parent?.training === undefined)
    return fail('NOT_FOUND', `no training job ${command.parentId}`)
  const deadline = roundDeadline(parent)
  const round = currentRound(parent)
  if (deadline === null || round.index !== command.round) {
    return fail('INVALID_STATE', `round ${command.round} of ${parent.id} is not open`)
  }
  if (state.logTime < deadline)
    return fail('INVALID_STATE', 'the round has not reached its deadline')
  const latest = latestJobs(state, round)
  const succeeded = latest.filter((job) => job.state === 'succeeded').length
  const { minShards } = parent.training
  if (succeeded >= minShards) {
    closeRound(state, parent, round)
    return ok({ closed: true })
  }
  // Too few by the deadline: the parent fails, and its stragglers are cut as a closed round's are.
  round.state = 'failed'
  round.closedAt = state.logTime
  cutStragglers(state, round, latest)
  end(
    state,
    parent,
    'failed',
    `${tooFew(round, succeeded, latest.length, minShards)} by its deadline`,
  )
  return ok({ closed: false })
}
