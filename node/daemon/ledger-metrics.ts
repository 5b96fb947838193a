// Prometheus metrics of the ledger and the scheduler. Gauges are read from the state when
// scraped; counters and histograms follow the applied log. Amounts are in credits, the base
// unit (fractional), as Prometheus names want base units; the ledger counts millicredits.
import { Counter, Gauge, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'
import {
  ESCROW_GRACE_MS,
  isContainerRuntime,
  isFinalJobState,
  JOB_TIMEOUT_S_MAX,
  JOB_STATES,
  MILLICREDITS_PER_CREDIT,
  RUNTIMES,
  SYSTEM_ACCOUNTS,
} from '../../protocol/index.ts'
import type { TransferKind } from '../../protocol/index.ts'
import { jobsByState } from '../../ledger/index.ts'
import type { Command, Job, RaftDriver, State } from '../../ledger/index.ts'

/** Seconds from submission to a start: an idle executor takes a job within tens of
 * milliseconds, a busy mesh keeps it queued for minutes to hours, and a job may wait until its
 * escrow may expire, a day past its timeout: the last bucket is that longest wait. */
const QUEUE_WAIT_BUCKETS_S = [
  ...[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400],
  JOB_TIMEOUT_S_MAX + ESCROW_GRACE_MS / 1000,
]
/** Seconds a job ran: from a trivial script (tens of milliseconds) to JOB_TIMEOUT_S_MAX, and a
 * last bucket for a run killed at that timeout, which ends moments past it, or whose end was
 * recorded late (a coordinator outage). */
const RUN_BUCKETS_S = [
  ...[0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800],
  JOB_TIMEOUT_S_MAX,
  2 * JOB_TIMEOUT_S_MAX,
]

const SETTLEMENT_OUTCOMES = ['charged', 'voided'] as const
const PAYEES = ['executor', 'fees'] as const
type Payee = (typeof PAYEES)[number]

const credits = (millicredits: number) => millicredits / MILLICREDITS_PER_CREDIT

export class LedgerMetrics {
  /** This peer's id in the ledger: the executor of the jobs whose containers it starts. */
  readonly #peer: string
  readonly #containerStarts: Counter
  readonly #settlements: Counter<'outcome'>
  /** Millicredits paid out by payee, summed as integers: credits added up as floats drift
   * (0.2 three times is 0.6000000000000001), so the counter is set from these at each scrape. */
  readonly #settledMc: Record<Payee, number> = { executor: 0, fees: 0 }
  readonly #queueWait: Histogram<'runtime'>
  readonly #run: Histogram<'runtime'>
  #unsubscribe: (() => void) | null = null

  constructor(registry: Registry, ledger: RaftDriver) {
    registerStateGauges(registry, ledger)
    this.#peer = ledger.id
    this.#containerStarts = new Counter({
      name: 'gridx_container_starts_total',
      help: 'Job containers started by this peer',
      registers: [registry],
    })
    this.#settlements = new Counter({
      name: 'gridx_settlements_total',
      help: 'Jobs settled, by whether the escrow was charged or voided',
      labelNames: ['outcome'],
      registers: [registry],
    })
    const settledMc = this.#settledMc
    new Counter({
      name: 'gridx_settled_credits_total',
      help: 'Credits paid out of escrow on settlement, by recipient',
      labelNames: ['to'],
      registers: [registry],
      collect() {
        this.reset()
        for (const to of PAYEES) this.inc({ to }, credits(settledMc[to]))
      },
    })
    this.#queueWait = new Histogram({
      name: 'gridx_job_queue_wait_seconds',
      help: "Time from a job's submission to the start of its run, by runtime",
      labelNames: ['runtime'],
      buckets: QUEUE_WAIT_BUCKETS_S,
      registers: [registry],
    })
    this.#run = new Histogram({
      name: 'gridx_job_run_seconds',
      help: 'Time a job ran, from its start to its end, by runtime',
      labelNames: ['runtime'],
      buckets: RUN_BUCKETS_S,
      registers: [registry],
    })
    // Every label value known up front starts at 0, so the first of a kind shows in rate().
    for (const outcome of SETTLEMENT_OUTCOMES) this.#settlements.inc({ outcome }, 0)
    for (const runtime of RUNTIMES) {
      this.#queueWait.zero({ runtime })
      this.#run.zero({ runtime })
    }
    this.#unsubscribe = ledger.onApplied((entry, result) => {
      // A replayed proposal changed nothing: what it answers was counted the first time.
      if (!result.ok || result.replayed === true) return
      const state = ledger.localRead()
      const { command } = entry
      // A run whose finish came before its start was proposed starts in its job.finish.
      const folded = command.type === 'job.finish' && isFoldedStart(result.value)
      if (command.type === 'job.start' || folded) this.#started(state.jobs.get(command.jobId))
      for (const job of endedJobs(state, entry.index, command, result.value)) this.#ended(job)
    })
  }

  /** A run started. Its container start is counted from the log, not from the executor's own
   * report: a run a remote coordinator assigned reports through the executor client, one
   * assigned while this peer led through the local link, and both end in this entry. */
  #started(job: Job | undefined): void {
    if (job === undefined || job.startedAt === null) return
    this.#queueWait.observe({ runtime: job.spec.runtime }, (job.startedAt - job.createdAt) / 1000)
    // A noop run is done in-process and starts no container.
    if (job.executor === this.#peer && isContainerRuntime(job.spec.runtime)) {
      this.#containerStarts.inc()
    }
  }

  #ended(job: Job): void {
    if (job.startedAt !== null && job.finishedAt !== null) {
      // The executor's own measure when it reported one; else the log times around it.
      const ranMs = job.result?.wallMs ?? job.finishedAt - job.startedAt
      this.#run.observe({ runtime: job.spec.runtime }, Math.max(0, ranMs) / 1000)
    }
    if (job.priceMc === null) return
    this.#settlements.inc({ outcome: job.priceMc > 0 ? 'charged' : 'voided' })
    this.#settledMc.executor += job.executorPaidMc ?? 0
    this.#settledMc.fees += job.feesPaidMc ?? 0
  }

  stop(): void {
    this.#unsubscribe?.()
  }
}

/** Gauges read from the replicated state at each scrape. */
function registerStateGauges(registry: Registry, ledger: RaftDriver): void {
  new Gauge({
    name: 'gridx_jobs',
    help: 'Jobs by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = jobsByState(ledger.localRead())
      for (const state of JOB_STATES) this.set({ state }, counts[state])
    },
  })
  new Gauge({
    name: 'gridx_queue_length',
    help: 'Jobs waiting for an executor',
    registers: [registry],
    collect() {
      this.set(ledger.localRead().queue.length)
    },
  })
  new Gauge({
    name: 'gridx_escrow_credits',
    help: 'Credits held in escrow for unsettled jobs',
    registers: [registry],
    collect() {
      this.set(credits(ledger.localRead().accounts.get(SYSTEM_ACCOUNTS.escrow)?.balanceMc ?? 0))
    },
  })
  new Gauge({
    name: 'gridx_ledger_applied_index',
    help: 'Index of the last applied log entry',
    registers: [registry],
    collect() {
      this.set(ledger.localRead().appliedIndex)
    },
  })
}

/** Kinds of transfer that only a job's settlement or void posts. */
const SETTLING_KINDS: ReadonlySet<TransferKind> = new Set(['payment', 'fee', 'refund'])

/**
 * The jobs the entry at `index` ended, each once. A command ends jobs besides the one it
 * names: a sharded job that ends (cancelled, or failed by a child) cancels its open
 * children, and a departed executor's jobs fail past their retries. Every ending settles or
 * voids an escrow, so this entry's settling transfers name them all, but for a free job,
 * which moves nothing: the command's own job covers that one.
 */
function endedJobs(state: State, index: number, command: Command, value: unknown): Job[] {
  const ids = new Set<string>()
  if (settles(command, value)) ids.add((command as { jobId: string }).jobId)
  // Transfers are appended in log order: this entry's are the last ones.
  const { transfers } = state
  let first = transfers.length
  while (first > 0 && transfers[first - 1]?.index === index) first -= 1
  for (const transfer of transfers.slice(first)) {
    if (transfer.jobId !== null && SETTLING_KINDS.has(transfer.kind)) ids.add(transfer.jobId)
  }
  // A parent's refund names the parent, which is no job: it finds none here.
  return [...ids]
    .map((id) => state.jobs.get(id))
    .filter((job): job is Job => job !== undefined && isFinalJobState(job.state))
}

/** Whether an applied command ended the job it names (and so settled or voided its escrow). */
function settles(command: Command, value: unknown): boolean {
  switch (command.type) {
    case 'job.finish':
    case 'job.expire':
      return true
    case 'job.cancel':
      return (value as { cancelled: boolean }).cancelled
    case 'job.lost':
      return !(value as { requeued: boolean }).requeued
    default:
      return false
  }
}

/** Whether a job.finish's result says the run's start was recorded in that entry. */
function isFoldedStart(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'started' in value && value.started === true
}
