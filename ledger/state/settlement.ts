// Moving a job's escrow: hold at submission, settle on a result the code is answerable for,
// void on anything the executor or the mesh caused.
import { priceMc, SYSTEM_ACCOUNTS } from '../../protocol/index.ts'
import { ensureAccount, postTransfer } from './accounts.ts'
import { assert } from './assert.ts'
import type { Job, State } from './types.ts'

export function holdEscrow(state: State, job: Job): void {
  postTransfer(state, {
    id: `${job.id}:escrow`,
    debit: job.submitter,
    credit: SYSTEM_ACCOUNTS.escrow,
    amountMc: job.maxPriceMc,
    kind: 'escrow',
    jobId: job.id,
  })
  ensureAccount(state, job.submitter).escrowedMc += job.maxPriceMc
  job.escrowHeld = true
}

function release(state: State, job: Job): void {
  assert(job.escrowHeld, `job ${job.id}: escrow released twice`)
  job.escrowHeld = false
  ensureAccount(state, job.submitter).escrowedMc -= job.maxPriceMc
}

/** Charges the job for `usedMs` of its reserved resources: the executor's owner gets the
 * policy's share, `fees` the rest, and the submitter the unused part of the escrow. */
export function settleEscrow(state: State, job: Job, usedMs: number): void {
  assert(job.executorOwner !== null, `job ${job.id}: settled without an executor`)
  const clampedMs = Math.min(Math.max(0, Math.round(usedMs)), job.spec.timeoutS * 1000)
  const price = Math.min(job.maxPriceMc, priceMc(state.policy, job.spec, clampedMs))
  const payment = Math.floor((price * state.policy.executorSharePpm) / 1_000_000)
  release(state, job)
  const base = { debit: SYSTEM_ACCOUNTS.escrow, jobId: job.id }
  postTransfer(state, {
    ...base,
    id: `${job.id}:payment`,
    credit: job.executorOwner,
    amountMc: payment,
    kind: 'payment',
  })
  postTransfer(state, {
    ...base,
    id: `${job.id}:fee`,
    credit: SYSTEM_ACCOUNTS.fees,
    amountMc: price - payment,
    kind: 'fee',
  })
  postTransfer(state, {
    ...base,
    id: `${job.id}:refund`,
    credit: job.submitter,
    amountMc: job.maxPriceMc - price,
    kind: 'refund',
  })
  job.priceMc = price
  job.executorPaidMc = payment
  job.feesPaidMc = price - payment
}

/** Returns the whole escrow to the submitter: nothing is charged. */
export function voidEscrow(state: State, job: Job): void {
  release(state, job)
  postTransfer(state, {
    id: `${job.id}:refund`,
    debit: SYSTEM_ACCOUNTS.escrow,
    credit: job.submitter,
    amountMc: job.maxPriceMc,
    kind: 'refund',
    jobId: job.id,
  })
  job.priceMc = 0
  job.executorPaidMc = 0
  job.feesPaidMc = 0
}
