// A new job's record, queued: what a submission and a sharded job's children share. The
// caller holds the escrow and records the submission.
import { utf8Bytes } from '../../protocol/index.ts'
import type { JobSpec } from '../../protocol/index.ts'
import { maxPriceOf } from './jobs.ts'
import { sha256Hex } from './sha256.ts'
import type { Job, State } from './types.ts'

export interface NewJob {
  readonly id: string
  readonly submitter: string
  readonly idempotencyId: string
  readonly spec: JobSpec
  readonly parent?: Job['parent']
}

/** Adds the job to the state, to the index of open jobs and to the back of the queue. */
export function createJob(state: State, init: NewJob): Job {
  const { code, ...settings } = init.spec
  const job: Job = {
    id: init.id,
    submitter: init.submitter,
    idempotencyId: init.idempotencyId,
    spec: settings,
    code,
    codeBytes: utf8Bytes(code),
    codeSha256: sha256Hex(code),
    state: 'queued',
    createdAt: state.logTime,
    assignedAt: null,
    startedAt: null,
    finishedAt: null,
    attempts: 0,
    fence: null,
    executor: null,
    executorOwner: null,
    maxPriceMc: maxPriceOf(state, settings),
    priceMc: null,
    executorPaidMc: null,
    feesPaidMc: null,
    result: null,
    reason: null,
    escrowHeld: false,
    events: [{ state: 'queued', at: state.logTime, reason: null }],
    ...(init.parent !== undefined ? { parent: init.parent } : {}),
  }
  state.jobs.set(job.id, job)
  state.jobOrder.push(job.id)
  state.unfinished.add(job.id)
  state.changedJobs.add(job.id)
  state.queue.push(job.id)
  return job
}
