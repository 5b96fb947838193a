// Accounts and transfers as the API shows them. Amounts are integer millicredits.

/** Accounts that belong to the mesh rather than to a peer's owner. */
export const SYSTEM_ACCOUNTS = {
  /** Source of every credit; the only account allowed below zero. */
  mint: 'mint',
  /** Holds the maximum price of every unsettled job (the escrow). */
  escrow: 'escrow',
  /** Receives the mesh's share of each settled job. */
  fees: 'fees',
} as const

export const MILLICREDITS_PER_CREDIT = 1000

export const TRANSFER_KINDS = ['grant', 'escrow', 'payment', 'fee', 'refund'] as const
export type TransferKind = (typeof TRANSFER_KINDS)[number]

export interface TransferView {
  readonly id: string
  readonly debit: string
  readonly credit: string
  readonly amountMc: number
  readonly kind: TransferKind
  /** Job the transfer belongs to, if any. */
  readonly jobId: string | null
  /** Log time at which it was applied. */
  readonly at: number
  /** Log index at which it was applied: a total order over all transfers. */
  readonly index: number
}

export interface BalanceView {
  readonly account: string
  readonly balanceMc: number
  /** Part of the balance's history now held in escrow for this account's unsettled jobs. */
  readonly escrowedMc: number
}

/** Pricing and payout policy of a mesh (DESIGN section 4). */
export interface MeshPolicy {
  readonly cpuSecondMc: number
  readonly gibSecondMc: number
  readonly jobMinimumMc: number
  /** Executor owner's share of a settled price, in parts per million. */
  readonly executorSharePpm: number
  readonly joinGrantMc: number
}

/** Defaults reproduce the original figures: a one-second job costs 1 credit, 0.8 of which
 * goes to the executor's owner; each owner is granted 100 credits on joining. */
export const DEFAULT_POLICY: MeshPolicy = {
  cpuSecondMc: 100,
  gibSecondMc: 50,
  jobMinimumMc: 1000,
  executorSharePpm: 800_000,
  joinGrantMc: 100_000,
}

/** Price of running `cpus` and `memoryMb` for `durationMs`, rounded up, never below the
 * policy's minimum. Integer arithmetic only, so every replica computes the same figure. */
export function priceMc(
  policy: MeshPolicy,
  resources: { readonly cpus: number; readonly memoryMb: number },
  durationMs: number,
): number {
  // cpus has at most one decimal (0.1 steps) once scaled; work in milli-units to stay integral.
  const milliCpus = Math.round(resources.cpus * 1000)
  const cpuPart = Math.ceil((milliCpus * policy.cpuSecondMc * durationMs) / 1_000_000)
  const memPart = Math.ceil((resources.memoryMb * policy.gibSecondMc * durationMs) / (1024 * 1000))
  return Math.max(policy.jobMinimumMc, cpuPart + memPart)
}
