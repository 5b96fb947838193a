// Read-only views of the state in the shapes the API returns.
import { SYSTEM_ACCOUNTS } from '../../protocol/index.ts'
import type { BalanceView, JobState, JobView, TransferView } from '../../protocol/index.ts'
import type { Job, State } from './types.ts'

export function jobView(job: Job): JobView {
  return {
    id: job.id,
    submitter: job.submitter,
    idempotencyId: job.idempotencyId,
    runtime: job.spec.runtime,
    spec: { ...job.spec, codeBytes: job.codeBytes },
    state: job.state,
    createdAt: job.createdAt,
    assignedAt: job.assignedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    attempts: job.attempts,
    executor: job.executor,
    executorOwner: job.executorOwner,
    maxPriceMc: job.maxPriceMc,
    priceMc: job.priceMc,
    executorPaidMc: job.executorPaidMc,
    feesPaidMc: job.feesPaidMc,
    result: job.result,
    reason: job.reason,
    ...(job.parent !== undefined ? { parent: job.parent } : {}),
  }
}

export function balanceView(state: State, account: string): BalanceView & { availableMc: number } {
  const entry = state.accounts.get(account)
  const balanceMc = entry?.balanceMc ?? 0
  return {
    account,
    balanceMc,
    escrowedMc: entry?.escrowedMc ?? 0,
    availableMc: account === SYSTEM_ACCOUNTS.mint ? 0 : balanceMc,
  }
}

/** Transfers touching `account`, newest first, optionally only those before log index `before`.
 * One log index can post several transfers (a settlement), and the next page starts before the
 * last one's index, so a page never ends inside an index: it stops short of one that does not
 * fit, or, when a single index fills the whole page, runs past `limit` to include all of it. */
export function historyView(
  state: State,
  account: string,
  options: { readonly before?: number | undefined; readonly limit: number },
): TransferView[] {
  const positions = state.accounts.get(account)?.transfers ?? []
  const out: TransferView[] = []
  for (let i = positions.length - 1; i >= 0; i--) {
    const transfer = state.transfers[positions[i] as number]
    if (transfer === undefined) continue
    if (options.before !== undefined && transfer.index >= options.before) continue
    const first = out[0]
    const last = out.at(-1)
    if (out.length >= options.limit && first !== undefined && last !== undefined) {
      if (transfer.index !== last.index) break
      if (first.index !== last.index) return out.filter((kept) => kept.index !== last.index)
    }
    out.push(transfer)
  }
  return out
}

/** Jobs of `submitter`, newest first. */
export function listJobs(
  state: State,
  submitter: string,
  options: {
    readonly state?: JobState | undefined
    readonly before?: string | undefined
    readonly limit: number
  },
): JobView[] {
  const out: JobView[] = []
  let started = options.before === undefined
  for (let i = state.jobOrder.length - 1; i >= 0 && out.length < options.limit; i--) {
    const id = state.jobOrder[i] as string
    if (!started) {
      started = id === options.before
      continue
    }
    const job = state.jobs.get(id)
    if (job === undefined || job.submitter !== submitter) continue
    if (options.state !== undefined && job.state !== options.state) continue
    out.push(jobView(job))
  }
  return out
}

export function jobsByState(state: State): Record<JobState, number> {
  const counts: Record<JobState, number> = {
    queued: 0,
    assigned: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    timed_out: 0,
    cancelled: 0,
    lost: 0,
  }
  for (const job of state.jobs.values()) counts[job.state]++
  return counts
}

/** Jobs not yet in a final state, oldest first. */
export function unfinishedJobs(state: State): Job[] {
  const jobs: Job[] = []
  for (const id of state.unfinished) {
    const job = state.jobs.get(id)
    if (job !== undefined) jobs.push(job)
  }
  return jobs
}
