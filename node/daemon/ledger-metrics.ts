// Prometheus metrics of the ledger and the scheduler. Gauges are read from the state when
// scraped; counters follow the applied log.
import { Counter, Gauge } from 'prom-client'
import type { Registry } from 'prom-client'
import { isFinalJobState, JOB_STATES, SYSTEM_ACCOUNTS } from '../../protocol/index.ts'
import { jobsByState } from '../../ledger/index.ts'
import type { Command, RaftDriver } from '../../ledger/index.ts'

export class LedgerMetrics {
  readonly containerStarts: Counter
  readonly #settlements: Counter<'outcome'>
  readonly #settled: Counter<'to'>
  #unsubscribe: (() => void) | null = null

  constructor(registry: Registry, ledger: RaftDriver) {
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
      name: 'gridx_escrow_millicredits',
      help: 'Credits held in escrow for unsettled jobs, in millicredits',
      registers: [registry],
      collect() {
        this.set(ledger.localRead().accounts.get(SYSTEM_ACCOUNTS.escrow)?.balanceMc ?? 0)
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
    this.containerStarts = new Counter({
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
    this.#settled = new Counter({
      name: 'gridx_settled_millicredits_total',
      help: 'Millicredits paid out of escrow on settlement, by recipient',
      labelNames: ['to'],
      registers: [registry],
    })
    this.#unsubscribe = ledger.onApplied((entry, result) => {
      if (!result.ok || !settles(entry.command, result.value)) return
      const job = ledger.localRead().jobs.get((entry.command as { jobId: string }).jobId)
      if (job === undefined || !isFinalJobState(job.state) || job.priceMc === null) return
      this.#settlements.inc({ outcome: job.priceMc > 0 ? 'charged' : 'voided' })
      this.#settled.inc({ to: 'executor' }, job.executorPaidMc ?? 0)
      this.#settled.inc({ to: 'fees' }, job.feesPaidMc ?? 0)
    })
  }

  stop(): void {
    this.#unsubscribe?.()
  }
}

/** Whether an applied command ended a job (and so settled or voided its escrow). */
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
