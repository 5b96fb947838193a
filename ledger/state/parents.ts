// Sharded jobs: a parent that runs one map job per shard, retries a shard whose code failed,
// then runs the reduce over every map's outputs. The parent escrows the whole run when it is
// submitted: each map job's escrow, and a reservation for the reduce and every retry, from
// which those children's escrows are taken; what is left is refunded when the parent ends.
import {
  JOB_INPUTS_BYTES_MAX,
  JOB_INPUTS_MAX,
  QUEUE_CODE_BYTES_PER_ACCOUNT_MAX,
  QUEUE_JOBS_MAX,
  QUEUE_JOBS_PER_ACCOUNT_MAX,
  SHARD_RETRIES_MAX,
  SHARDS_MAX,
  SYSTEM_ACCOUNTS,
  utf8Bytes,
} from '../../protocol/index.ts'
import type { JobFile, JobSpec, ParentState } from '../../protocol/index.ts'
import { ensureAccount, isSystemAccount, postTransfer } from './accounts.ts'
import { createJob } from './job-record.ts'
import { createParent } from './parent-record.ts'
import { cancelJob, maxPriceOf, submissionKey, unfinishedCounts } from './jobs.ts'
import { fail, ok } from './result.ts'
import { holdEscrow } from './settlement.ts'
import { trainingChildEnded } from './training.ts'
import type { ApplyResult, Command, Job, Parent, State } from './types.ts'

type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>

/** What the parent escrows in all: each shard's map job run 1 + SHARD_RETRIES_MAX times, and
 * the reduce once. */
export function parentMaxPriceMc(state: State, spec: JobSpec, shards: number, reduce: boolean) {
  // The price depends on the resources only, not on the code or the inputs.
  const one = maxPriceOf(state, spec)
  return one * shards * (1 + SHARD_RETRIES_MAX) + (reduce ? one : 0)
}

/** What a parent's submission would do, without doing it (see checkSubmit). */
export function checkSubmitParent(
  state: State,
  command: CommandOf<'parent.submit'>,
): ApplyResult | null {
  const required = parentMaxPriceMc(
    state,
    command.spec,
    command.shards.length,
    command.reduceCode !== null,
  )
  return checkNewParent(state, command, required)
}

/** What a sharded or training job's submission shares: its replay, its shards, its queue and
 * its escrow of `requiredMc` in all. */
export function checkNewParent(
  state: State,
  command: CommandOf<'parent.submit'> | CommandOf<'training.submit'>,
  requiredMc: number,
): ApplyResult | null {
  const existing = state.submissions.get(submissionKey(command.submitter, command.idempotencyId))
  if (existing !== undefined) {
    if (!state.parents.has(existing)) {
      return fail('CONFLICT', 'this idempotency id was used for a different job', {
        field: 'idempotencyId',
        jobId: existing,
      })
    }
    return ok({ parentId: existing, created: false })
  }
  const shards = command.shards.length
  if (shards < 1 || shards > SHARDS_MAX) {
    return fail('INVALID_PARAMS', `a sharded job has 1 to ${SHARDS_MAX} shards, not ${shards}`)
  }
  if (state.jobs.has(command.parentId) || state.parents.has(command.parentId)) {
    return fail('CONFLICT', `job id ${command.parentId} is taken`)
  }
  const submitter = state.accounts.get(command.submitter)
  if (submitter === undefined || isSystemAccount(command.submitter)) {
    return fail('NOT_FOUND', 'the submitting account does not exist')
  }
  const open = unfinishedCounts(state, command.submitter)
  if (open.all + shards > QUEUE_JOBS_MAX) {
    return fail('QUEUE_FULL', `the mesh queue cannot take ${shards} more jobs`)
  }
  if (open.mine + shards > QUEUE_JOBS_PER_ACCOUNT_MAX) {
    return fail('QUEUE_FULL', `an account may have ${QUEUE_JOBS_PER_ACCOUNT_MAX} unfinished jobs`)
  }
  if (
    open.mineCodeBytes + shards * utf8Bytes(command.spec.code) >
    QUEUE_CODE_BYTES_PER_ACCOUNT_MAX
  ) {
    return fail('QUEUE_FULL', `an account's unfinished jobs may hold that much code`)
  }
  if (submitter.balanceMc < requiredMc) {
    return fail(
      'INSUFFICIENT_FUNDS',
      'not enough credits to escrow every shard, retry and reduce',
      {
        requiredMc,
        availableMc: submitter.balanceMc,
      },
    )
  }
  return null
}

export function submitParent(state: State, command: CommandOf<'parent.submit'>): ApplyResult {
  const checked = checkSubmitParent(state, command)
  if (checked !== null) return checked
  const hasReduce = command.reduceCode !== null
  const maxPriceMc = parentMaxPriceMc(state, command.spec, command.shards.length, hasReduce)
  const parent = createParent(state, command, {
    reduceCode: command.reduceCode,
    hasReduce,
    maxPriceMc,
  })
  for (const [index] of parent.shards.entries()) {
    holdEscrow(state, startMap(state, parent, index))
  }
  const mapsMc = parent.shards.reduce((sum, shard) => {
    return sum + (state.jobs.get(shard.jobs[0] as string) as Job).maxPriceMc
  }, 0)
  reserve(state, parent, maxPriceMc - mapsMc)
  return ok({ parentId: parent.id, created: true })
}

/** Creates the next map job of shard `index` (its first run, or a retry). */
function startMap(state: State, parent: Parent, index: number): Job {
  const shard = parent.shards[index] as Parent['shards'][number]
  const run = shard.jobs.length
  const job = createJob(state, {
    id: `${parent.id}s${index}${run === 0 ? '' : `r${run}`}`,
    submitter: parent.submitter,
    idempotencyId: `${parent.idempotencyId}:s${index}:${run}`,
    spec: { ...parent.map, code: parent.mapCode as string, inputs: [...shard.inputs] },
    parent: { id: parent.id, shard: index },
  })
  shard.jobs.push(job.id)
  return job
}

export function reserve(state: State, parent: Parent, amountMc: number): void {
  postTransfer(state, {
    id: `${parent.id}:escrow`,
    debit: parent.submitter,
    credit: SYSTEM_ACCOUNTS.escrow,
    amountMc,
    kind: 'escrow',
    jobId: parent.id,
  })
  ensureAccount(state, parent.submitter).escrowedMc += amountMc
  parent.reservedMc = amountMc
}

/** Whether a child created now can be escrowed: from the reservation, topped up from the
 * submitter's balance when the mesh's prices rose since the parent was submitted. */
export function canFund(state: State, parent: Parent): boolean {
  const balance = state.accounts.get(parent.submitter)?.balanceMc ?? 0
  return parent.reservedMc + balance >= maxPriceOf(state, parent.map)
}

/** Escrows a new child as any job is escrowed, its own transfer of its maximum price, after
 * releasing that much of the reservation to the submitter in the same entry: every job's
 * history then reads the same, and the submitter's balance never shows the step. */
export function fund(state: State, parent: Parent, job: Job): void {
  const released = Math.min(parent.reservedMc, job.maxPriceMc)
  postTransfer(state, {
    id: `${parent.id}:to:${job.id}`,
    debit: SYSTEM_ACCOUNTS.escrow,
    credit: parent.submitter,
    amountMc: released,
    kind: 'refund',
    jobId: parent.id,
  })
  ensureAccount(state, parent.submitter).escrowedMc -= released
  parent.reservedMc -= released
  holdEscrow(state, job)
}

/** Called by the job that just reached a final state, its escrow settled or voided. */
export function childEnded(state: State, job: Job): void {
  const link = job.parent as NonNullable<Job['parent']>
  const parent = state.parents.get(link.id)
  if (parent?.state !== 'running') return
  if (parent.training !== undefined) return trainingChildEnded(state, parent, job)
  if (link.shard === null) {
    if (job.state === 'succeeded') return end(state, parent, 'succeeded', null)
    return end(state, parent, job.state === 'cancelled' ? 'cancelled' : 'failed', reduceWhy(job))
  }
  if (job.state === 'cancelled') return end(state, parent, 'cancelled', `${job.id} was cancelled`)
  if (job.state !== 'succeeded') return retryShard(state, parent, link.shard, job)
  const latest = parent.shards.map((shard) => state.jobs.get(shard.jobs.at(-1) as string) as Job)
  if (latest.some((map) => map.state !== 'succeeded')) return
  if (!parent.hasReduce) return end(state, parent, 'succeeded', null)
  startReduce(state, parent, latest)
}

function reduceWhy(job: Job): string {
  return `the reduce ${job.id} ${job.state}${job.reason !== null ? `: ${job.reason}` : ''}`
}

function retryShard(state: State, parent: Parent, index: number, failed: Job): void {
  const shard = parent.shards[index] as Parent['shards'][number]
  const why = `shard ${index} ${failed.state}${failed.reason !== null ? `: ${failed.reason}` : ''}`
  if (shard.jobs.length > SHARD_RETRIES_MAX) {
    return end(state, parent, 'failed', `${why}; gave up after ${shard.jobs.length} runs`)
  }
  if (!canFund(state, parent)) return end(state, parent, 'failed', `${why}; no credits to retry`)
  fund(state, parent, startMap(state, parent, index))
}

/** The reduce reads map `i`'s outputs under `inputs/<i>/`; a tree over the bounds of a job's
 * inputs fails the parent rather than a reduce that could not be placed. */
function startReduce(state: State, parent: Parent, maps: readonly Job[]): void {
  const inputs: JobFile[] = maps.flatMap((map, index) =>
    (map.result?.outputs ?? []).map((file) => ({ ...file, name: `${index}/${file.name}` })),
  )
  const bytes = inputs.reduce((sum, file) => sum + file.size, 0)
  if (inputs.length > JOB_INPUTS_MAX || bytes > JOB_INPUTS_BYTES_MAX) {
    const why = `the maps' outputs (${inputs.length} files, ${bytes} bytes) exceed a job's inputs`
    return end(state, parent, 'failed', why)
  }
  if (!canFund(state, parent)) return end(state, parent, 'failed', 'no credits for the reduce')
  const reduce = createJob(state, {
    id: `${parent.id}r`,
    submitter: parent.submitter,
    idempotencyId: `${parent.idempotencyId}:reduce`,
    spec: {
      ...parent.map,
      code: parent.reduceCode as string,
      ...(inputs.length > 0 ? { inputs } : {}),
    },
    parent: { id: parent.id, shard: null },
  })
  parent.reduce = reduce.id
  fund(state, parent, reduce)
}

/** Ends the parent: its open children are cancelled (a running one pays for its time) and
 * the rest of its reservation goes back to the submitter. */
export function end(state: State, parent: Parent, to: ParentState, reason: string | null): void {
  parent.state = to
  parent.reason = reason
  parent.finishedAt = state.logTime
  const round = parent.training?.history.at(-1)
  if (round !== undefined && round.state !== 'done') {
    round.state = 'failed'
    round.closedAt ??= state.logTime
  }
  parent.mapCode = null
  parent.reduceCode = null
  for (const id of childrenOf(parent)) {
    if (state.unfinished.has(id)) {
      cancelJob(state, { type: 'job.cancel', jobId: id, by: parent.submitter })
    }
  }
  postTransfer(state, {
    id: `${parent.id}:refund`,
    debit: SYSTEM_ACCOUNTS.escrow,
    credit: parent.submitter,
    amountMc: parent.reservedMc,
    kind: 'refund',
    jobId: parent.id,
  })
  ensureAccount(state, parent.submitter).escrowedMc -= parent.reservedMc
  parent.reservedMc = 0
}

/** Every child, map runs in shard order and then the reduce (a training job's aggregates,
 * round by round). */
export function childrenOf(parent: Parent): string[] {
  const maps = parent.shards.flatMap((shard) => shard.jobs)
  if (parent.training !== undefined) {
    return [...maps, ...parent.training.history.flatMap((round) => round.aggregate ?? [])]
  }
  return parent.reduce === null ? maps : [...maps, parent.reduce]
}

export function cancelParent(state: State, command: CommandOf<'parent.cancel'>): ApplyResult {
  const parent = state.parents.get(command.parentId)
  if (parent === undefined || parent.submitter !== command.by) {
    return fail('NOT_FOUND', `no job ${command.parentId}`)
  }
  if (parent.state === 'cancelled') return ok({ cancelled: false })
  if (parent.state !== 'running') return fail('INVALID_STATE', `job already ended: ${parent.state}`)
  end(state, parent, 'cancelled', 'cancelled by the submitter')
  return ok({ cancelled: true })
}
