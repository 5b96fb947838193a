// Job commands: submit, assign, start, finish, lost, cancel, expire. Each handler checks
// everything first and only then changes state, so a refused command changes nothing.
import {
  ESCROW_GRACE_MS,
  isFinalJobState,
  JOB_RETRIES_MAX,
  priceMc,
  QUEUE_CODE_BYTES_PER_ACCOUNT_MAX,
  QUEUE_JOBS_MAX,
  QUEUE_JOBS_PER_ACCOUNT_MAX,
  utf8Bytes,
} from '../../protocol/index.ts'
import type { JobSpec, JobState } from '../../protocol/index.ts'
import { isSystemAccount } from './accounts.ts'
import { canonicalJson } from './canonical.ts'
import { fail, ok } from './result.ts'
import { createJob } from './job-record.ts'
import { childEnded } from './parents.ts'
import { holdEscrow, settleEscrow, voidEscrow } from './settlement.ts'
import { sha256Hex } from './sha256.ts'
import type { ApplyResult, Command, Job, State } from './types.ts'

type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>

function transition(state: State, job: Job, to: JobState, reason: string | null): void {
  job.state = to
  job.reason = reason
  job.events.push({ state: to, at: state.logTime, reason })
  state.changedJobs.add(job.id)
  if (isFinalJobState(to)) {
    job.finishedAt = state.logTime
    job.code = null
    state.unfinished.delete(job.id)
    // A sharded job's child that ended moves its parent on (a retry, the reduce, the end).
    if (job.parent !== undefined) childEnded(state, job)
  }
}

function removeFromQueue(state: State, jobId: string): void {
  const position = state.queue.indexOf(jobId)
  if (position >= 0) state.queue.splice(position, 1)
}

/** Unfinished jobs (queued, assigned or running) of one submitter and the bytes of code they
 * hold, and the unfinished jobs of everyone. */
export function unfinishedCounts(
  state: State,
  submitter: string,
): { mine: number; mineCodeBytes: number; all: number } {
  const counts = { mine: 0, mineCodeBytes: 0, all: 0 }
  for (const id of state.unfinished) {
    counts.all++
    const job = state.jobs.get(id)
    if (job?.submitter !== submitter) continue
    counts.mine++
    counts.mineCodeBytes += job.codeBytes
  }
  return counts
}

/** Whether a submission asks for the same job as `existing`: same settings, whatever the key
 * order of its env, and the same code, by digest once the code has left the state. */
function sameJob(existing: Job | undefined, spec: JobSpec): boolean {
  if (existing === undefined) return false
  const { code, ...settings } = spec
  if (canonicalJson(existing.spec) !== canonicalJson(settings)) return false
  return existing.code !== null ? existing.code === code : existing.codeSha256 === sha256Hex(code)
}

export function maxPriceOf(state: State, spec: Job['spec']): number {
  return priceMc(state.policy, spec, spec.timeoutS * 1000)
}

/**
 * What a submission would do, without doing it: the first job's result when it replays an
 * idempotency id, a refusal, or null when it would create the job. `apply` runs it, and so does
 * the API before proposing, so that what the state refuses never reaches the log.
 */
export function checkSubmit(state: State, command: CommandOf<'job.submit'>): ApplyResult | null {
  const existingId = state.submissions.get(submissionKey(command.submitter, command.idempotencyId))
  if (existingId !== undefined) {
    if (!sameJob(state.jobs.get(existingId), command.spec)) {
      return fail('CONFLICT', 'this idempotency id was used for a different job', {
        field: 'idempotencyId',
        jobId: existingId,
      })
    }
    return ok({ jobId: existingId, created: false })
  }
  if (state.jobs.has(command.jobId)) return fail('CONFLICT', `job id ${command.jobId} is taken`)
  const submitter = state.accounts.get(command.submitter)
  if (submitter === undefined || isSystemAccount(command.submitter)) {
    return fail('NOT_FOUND', 'the submitting account does not exist')
  }
  const unfinished = unfinishedCounts(state, command.submitter)
  if (unfinished.all >= QUEUE_JOBS_MAX) {
    return fail('QUEUE_FULL', `the mesh queue is full (${QUEUE_JOBS_MAX} jobs)`)
  }
  if (unfinished.mine >= QUEUE_JOBS_PER_ACCOUNT_MAX) {
    return fail('QUEUE_FULL', `an account may have ${QUEUE_JOBS_PER_ACCOUNT_MAX} unfinished jobs`)
  }
  const codeBytes = utf8Bytes(command.spec.code)
  if (unfinished.mineCodeBytes + codeBytes > QUEUE_CODE_BYTES_PER_ACCOUNT_MAX) {
    return fail(
      'QUEUE_FULL',
      `an account's unfinished jobs may hold ${QUEUE_CODE_BYTES_PER_ACCOUNT_MAX} bytes of code`,
      { field: 'spec.code', queuedCodeBytes: unfinished.mineCodeBytes, codeBytes },
    )
  }
  const maxPrice = maxPriceOf(state, command.spec)
  if (submitter.balanceMc < maxPrice) {
    return fail('INSUFFICIENT_FUNDS', 'not enough credits to escrow this job’s maximum price', {
      requiredMc: maxPrice,
      availableMc: submitter.balanceMc,
    })
  }
  return null
}

export function submissionKey(submitter: string, idempotencyId: string): string {
  return `${submitter}\n${idempotencyId}`
}

export function submitJob(state: State, command: CommandOf<'job.submit'>): ApplyResult {
  const checked = checkSubmit(state, command)
  if (checked !== null) return checked
  const job = createJob(state, {
    id: command.jobId,
    submitter: command.submitter,
    idempotencyId: command.idempotencyId,
    spec: command.spec,
  })
  state.submissions.set(submissionKey(job.submitter, job.idempotencyId), job.id)
  holdEscrow(state, job)
  return ok({ jobId: job.id, created: true })
}

export function assignJob(state: State, command: CommandOf<'job.assign'>): ApplyResult {
  const job = state.jobs.get(command.jobId)
  if (job === undefined) return fail('NOT_FOUND', `no job ${command.jobId}`)
  if (job.state !== 'queued') return fail('INVALID_STATE', `job is ${job.state}, not queued`)
  const executor = state.executors.get(command.executor)
  if (executor === undefined) return fail('NOT_FOUND', `no executor ${command.executor}`)
  removeFromQueue(state, job.id)
  job.fence = state.appliedIndex
  job.executor = executor.peer
  job.executorOwner = executor.owner
  job.assignedAt = state.logTime
  job.startedAt = null
  job.attempts += 1
  transition(state, job, 'assigned', null)
  return ok({ fence: job.fence })
}

/** Finds the job a report names and checks its fencing token. */
function fenced(state: State, jobId: string, fence: number): Job | ApplyResult {
  const job = state.jobs.get(jobId)
  if (job === undefined) return fail('NOT_FOUND', `no job ${jobId}`)
  if (job.fence !== fence) {
    return fail('CONFLICT', `stale assignment ${fence} for job ${jobId} (current ${job.fence})`)
  }
  return job
}

export function startJob(state: State, command: CommandOf<'job.start'>): ApplyResult {
  const job = fenced(state, command.jobId, command.fence)
  if (!('id' in job)) return job
  if (job.state !== 'assigned') return fail('INVALID_STATE', `job is ${job.state}, not assigned`)
  job.startedAt = state.logTime
  transition(state, job, 'running', null)
  return ok(null)
}

export function finishJob(state: State, command: CommandOf<'job.finish'>): ApplyResult {
  const job = fenced(state, command.jobId, command.fence)
  if (!('id' in job)) return job
  if (job.state !== 'running' && job.state !== 'assigned') {
    return fail('INVALID_STATE', `job is ${job.state}, not running`)
  }
  const { outcome } = command
  if (outcome.cause === 'executor') {
    return loseJob(state, job, outcome.error ?? 'the executor failed')
  }
  // The run ended before its start was proposed (a job shorter than a commit): the
  // coordinator folds the start into this entry, and the start is recorded here, as it ran.
  // The result says so, for whoever counts starts (metrics).
  const started = job.state === 'assigned'
  if (started) {
    job.startedAt = state.logTime
    transition(state, job, 'running', null)
  }
  job.result = outcome.result
  settleEscrow(state, job, outcome.result.wallMs)
  transition(state, job, outcome.state, outcome.error)
  return ok(started ? { started } : null)
}

/** The executor failed the job (vanished, engine error): requeue it, or give up after the
 * retry limit. Either way the submitter pays nothing for this run. */
function loseJob(state: State, job: Job, reason: string): ApplyResult {
  transition(state, job, 'lost', reason)
  job.fence = null
  job.executor = null
  job.executorOwner = null
  if (job.attempts > JOB_RETRIES_MAX) {
    voidEscrow(state, job)
    transition(state, job, 'failed', `${reason}; gave up after ${job.attempts} attempts`)
    return ok({ requeued: false })
  }
  // A retried job goes to the front: it has waited longest.
  state.queue.unshift(job.id)
  transition(state, job, 'queued', `retrying: ${reason}`)
  return ok({ requeued: true })
}

/** Every job assigned to or running on `executor` is lost (requeued at no charge, or failed
 * past the retry limit), the oldest at the front of the queue: the executor left the mesh. */
export function loseJobsOf(state: State, executor: string, reason: string): number {
  const held = [...state.unfinished]
    .map((id) => state.jobs.get(id) as Job)
    .filter(
      (job) => job.executor === executor && (job.state === 'assigned' || job.state === 'running'),
    )
  // Each requeued job goes to the front; the newest first, so that the oldest ends up first.
  for (const job of held.reverse()) loseJob(state, job, reason)
  return held.length
}

export function lostJob(state: State, command: CommandOf<'job.lost'>): ApplyResult {
  const job = fenced(state, command.jobId, command.fence)
  if (!('id' in job)) return job
  if (job.state !== 'running' && job.state !== 'assigned') {
    return fail('INVALID_STATE', `job is ${job.state}, not running`)
  }
  return loseJob(state, job, command.reason)
}

/** What a cancel would do, without doing it: a result when it would change nothing (already
 * cancelled) or a refusal, else null. Run by `apply` and by the API before proposing. */
export function checkCancel(state: State, command: CommandOf<'job.cancel'>): ApplyResult | null {
  const job = state.jobs.get(command.jobId)
  if (job === undefined || job.submitter !== command.by) {
    return fail('NOT_FOUND', `no job ${command.jobId}`)
  }
  if (job.state === 'cancelled') return ok({ cancelled: false })
  if (isFinalJobState(job.state)) {
    return fail('INVALID_STATE', `job already ended: ${job.state}`)
  }
  return null
}

export function cancelJob(state: State, command: CommandOf<'job.cancel'>): ApplyResult {
  const checked = checkCancel(state, command)
  if (checked !== null) return checked
  const job = state.jobs.get(command.jobId) as Job
  if (job.state === 'running' && job.startedAt !== null) {
    // The code ran until now at the submitter's request: it pays for that time.
    settleEscrow(state, job, state.logTime - job.startedAt)
  } else {
    removeFromQueue(state, job.id)
    voidEscrow(state, job)
  }
  transition(state, job, 'cancelled', 'cancelled by the submitter')
  return ok({ cancelled: true })
}

/** Ends an open job as cancelled and charges nothing for what it ran: a training round's
 * straggler, cut off at the round's deadline (training.ts). Its fence is cleared, so a result
 * its executor still sends is refused as stale. */
export function cancelUnpaid(state: State, job: Job, reason: string): void {
  removeFromQueue(state, job.id)
  voidEscrow(state, job)
  job.fence = null
  transition(state, job, 'cancelled', reason)
}

export function expireJob(state: State, command: CommandOf<'job.expire'>): ApplyResult {
  const job = state.jobs.get(command.jobId)
  if (job === undefined) return fail('NOT_FOUND', `no job ${command.jobId}`)
  if (isFinalJobState(job.state)) return fail('INVALID_STATE', `job already ended: ${job.state}`)
  if (state.logTime < escrowExpiresAt(job)) {
    return fail('INVALID_STATE', 'the escrow has not expired yet')
  }
  removeFromQueue(state, job.id)
  voidEscrow(state, job)
  job.fence = null
  transition(state, job, 'failed', 'never settled: the escrow expired and was refunded')
  return ok(null)
}

export function escrowExpiresAt(job: Job): number {
  return job.createdAt + job.spec.timeoutS * 1000 + ESCROW_GRACE_MS
}
