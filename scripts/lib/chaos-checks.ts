// What must hold after a chaos run once the mesh is quiet, read through the API of every peer
// (each with its owner's token) and from the engine's own record of containers. Each check
// returns the violations it found, in words; an empty list is a pass.
import { isFinalJobState, PAGE_ITEMS_MAX } from '../../protocol/index.ts'
import type { JobState, JobView, MeshStateView, TransferView } from '../../protocol/index.ts'
import type { Submission } from './chaos-client.ts'
import type { ContainerRuns } from './container-runs.ts'
import type { MeshCluster } from './mesh-cluster.ts'

/** Between two polls of the whole mesh while waiting for it to settle. */
const SETTLE_POLL_MS = 500
const CALL_TIMEOUT_MS = 15_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Every job of peer `index`'s owner, newest first, all pages. */
export async function allJobs(cluster: MeshCluster, index: number): Promise<JobView[]> {
  const jobs: JobView[] = []
  for (;;) {
    const before = jobs.at(-1)?.id
    const page = await cluster.rpc(
      index,
      'job.list',
      { limit: PAGE_ITEMS_MAX, ...(before === undefined ? {} : { before }) },
      { timeoutMs: CALL_TIMEOUT_MS },
    )
    jobs.push(...page.jobs)
    if (page.jobs.length < PAGE_ITEMS_MAX) return jobs
  }
}

/** Every transfer touching peer `index`'s owner, all pages. */
export async function allTransfers(cluster: MeshCluster, index: number): Promise<TransferView[]> {
  const transfers: TransferView[] = []
  for (;;) {
    const before = transfers.at(-1)?.index
    const page = await cluster.rpc(
      index,
      'account.history',
      { limit: PAGE_ITEMS_MAX, ...(before === undefined ? {} : { before }) },
      { timeoutMs: CALL_TIMEOUT_MS },
    )
    transfers.push(...page.transfers)
    if (page.transfers.length === 0) return transfers
  }
}

/** Polls the clients' jobs until none is open, for at most `timeoutMs`; returns the last
 * listing by peer either way. */
export async function waitForFinalJobs(
  cluster: MeshCluster,
  clientPeers: readonly number[],
  timeoutMs: number,
): Promise<Map<number, JobView[]>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const listed = new Map<number, JobView[]>()
    try {
      for (const peer of clientPeers) listed.set(peer, await allJobs(cluster, peer))
      const open = [...listed.values()].flat().filter((job) => !isFinalJobState(job.state))
      if (open.length === 0 || Date.now() > deadline) return listed
    } catch (error) {
      if (Date.now() > deadline) throw error
    }
    await sleep(SETTLE_POLL_MS)
  }
}

/** Acknowledged submissions exist as the job they were acknowledged as; no idempotency id made
 * two jobs; every job is final. */
export function checkJobs(
  submissions: readonly Submission[],
  listed: ReadonlyMap<number, readonly JobView[]>,
): string[] {
  const violations: string[] = []
  for (const [peer, jobs] of listed) {
    const byId = new Map(jobs.map((job) => [job.id, job]))
    const ids = new Set<string>()
    for (const job of jobs) {
      if (ids.has(job.idempotencyId)) violations.push(`two jobs for ${job.idempotencyId}`)
      ids.add(job.idempotencyId)
      if (!isFinalJobState(job.state)) violations.push(`job ${job.id} is still ${job.state}`)
    }
    for (const submission of submissions.filter((s) => s.peer === peer && s.jobId !== null)) {
      const job = byId.get(submission.jobId as string)
      if (job === undefined) {
        violations.push(`acknowledged ${submission.idempotencyId} (${submission.jobId}) is lost`)
      } else if (job.idempotencyId !== submission.idempotencyId) {
        violations.push(`job ${job.id} answers ${job.idempotencyId}, not its submission`)
      }
    }
  }
  return violations
}

/** Counts of jobs by final (or not) state. */
export function jobsByState(listed: ReadonlyMap<number, readonly JobView[]>) {
  const counts: Partial<Record<JobState, number>> = {}
  for (const job of [...listed.values()].flat()) counts[job.state] = (counts[job.state] ?? 0) + 1
  return counts
}

/**
 * Each job moved money once: at most one escrow, payment and refund transfer per job in any
 * owner's history, a payment only to the job's executor's owner and of the amount the job
 * shows; and each owner's balance is its grant, less what its jobs cost, plus what it earned.
 */
export function checkSettlements(
  owners: readonly { readonly peer: number; readonly account: string; balanceMc: number }[],
  transfers: ReadonlyMap<number, readonly TransferView[]>,
  jobs: readonly JobView[],
  grantMc: number,
): string[] {
  const violations: string[] = []
  const byJob = new Map(jobs.map((job) => [job.id, job]))
  for (const owner of owners) {
    const seen = new Map<string, number>()
    for (const transfer of transfers.get(owner.peer) ?? []) {
      if (transfer.jobId === null) continue
      const key = `${transfer.jobId} ${transfer.kind}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
      const job = byJob.get(transfer.jobId)
      if (transfer.kind === 'payment' && job !== undefined) {
        if (job.executorOwner !== owner.account || job.executorPaidMc !== transfer.amountMc) {
          violations.push(`payment for ${job.id} to ${owner.account} does not match the job`)
        }
      }
    }
    for (const [key, count] of seen) {
      if (count > 1) violations.push(`${owner.account}: ${count} transfers of ${key}`)
    }
    let expected = grantMc
    for (const job of jobs) {
      if (job.submitter === owner.account) expected -= job.priceMc ?? 0
      if (job.executorOwner === owner.account) expected += job.executorPaidMc ?? 0
    }
    if (owner.balanceMc !== expected) {
      violations.push(`${owner.account} holds ${owner.balanceMc} mc, its jobs say ${expected}`)
    }
  }
  for (const job of jobs) {
    if (job.priceMc === null) violations.push(`final job ${job.id} was never settled`)
    else if (job.priceMc !== (job.executorPaidMc ?? 0) + (job.feesPaidMc ?? 0)) {
      violations.push(`job ${job.id}'s price is not its payment plus its fee`)
    }
  }
  return violations
}

/** Reads every owner's balance and history (each peer with its own token) and checks the
 * settlements of `jobs` against them (checkSettlements). */
export async function checkLedger(
  cluster: MeshCluster,
  jobs: readonly JobView[],
  grantMc: number,
): Promise<string[]> {
  const owners = await Promise.all(
    cluster.peers.map(async (peer) => {
      const balance = await cluster.rpc(peer.index, 'account.balance', {})
      return { peer: peer.index, account: balance.account, balanceMc: balance.balanceMc }
    }),
  )
  const transfers = new Map(
    await Promise.all(
      cluster.peers.map(
        async (peer) => [peer.index, await allTransfers(cluster, peer.index)] as const,
      ),
    ),
  )
  return checkSettlements(owners, transfers, jobs, grantMc)
}

export interface ReplicaAgreement {
  readonly violations: string[]
  /** The index every peer reported at once, with its hash; null if they never lined up. */
  readonly agreedAt: { readonly appliedIndex: number; readonly stateHash: string } | null
}

/**
 * Polls mesh.state on every peer until all report the same applied index, for at most
 * `timeoutMs`. Any two reports of one index with different hashes, on any poll, and any broken
 * ledger invariant a replica reports are violations.
 */
export async function checkReplicas(
  cluster: MeshCluster,
  timeoutMs: number,
): Promise<ReplicaAgreement> {
  const violations = new Set<string>()
  const hashAt = new Map<number, { hash: string; peer: number }>()
  const deadline = Date.now() + timeoutMs
  for (;;) {
    // A peer that does not answer this poll is asked again on the next.
    const reports = await Promise.all(
      cluster.peers.map((peer) =>
        cluster
          .rpc(peer.index, 'mesh.state', {}, { timeoutMs: CALL_TIMEOUT_MS })
          .then((state): [number, MeshStateView] | null => [peer.index, state])
          .catch(() => null),
      ),
    ).then((all) => all.filter((report) => report !== null))
    for (const [peer, state] of reports) {
      for (const broken of state.ledgerViolations) violations.add(`peer ${peer}: ${broken}`)
      const known = hashAt.get(state.appliedIndex)
      if (known === undefined) hashAt.set(state.appliedIndex, { hash: state.stateHash, peer })
      else if (known.hash !== state.stateHash) {
        violations.add(`peers ${known.peer} and ${peer} differ at index ${state.appliedIndex}`)
      }
    }
    const indexes = new Set(reports.map(([, state]) => state.appliedIndex))
    const first = reports[0]?.[1]
    if (reports.length === cluster.peers.length && indexes.size === 1 && first !== undefined) {
      const agreedAt = { appliedIndex: first.appliedIndex, stateHash: first.stateHash }
      return { violations: [...violations], agreedAt }
    }
    if (Date.now() > deadline) {
      violations.add(`replicas never reached one index: ${[...indexes].join(', ')}`)
      return { violations: [...violations], agreedAt: null }
    }
    await sleep(SETTLE_POLL_MS / 5)
  }
}

/** No assignment ran in two containers. */
export function checkContainerRuns(runs: ContainerRuns): string[] {
  return runs.assignmentsRunTwice().map((key) => `assignment ${key} ran in two containers`)
}
