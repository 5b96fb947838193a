// The executor client's way to the coordinator in this same process, while this peer leads:
// reports go straight to its scheduler, and a finished one stays in the client's buffer until
// the scheduler says its proposal was committed (or refused for good).
import type { Logger } from 'pino'
import type { ExecutorReport } from '../../protocol/index.ts'
import type { LocalSink } from './executor-client-init.ts'
import { sleep } from './executor-dial.ts'
import type { ReportBuffer } from './executor-reports.ts'

export interface LocalDeliveryInit {
  /** The client's buffer: finished reports are kept there until the sink has them. */
  readonly reports: ReportBuffer
  /** The wait before the given retry of one report (the client's reconnect backoff). */
  readonly backoffMs: (attempt: number) => number
  /** Aborted when the client stops: no retry is made after it. */
  readonly signal: () => AbortSignal
  readonly logger: Logger
}

export class LocalDelivery {
  readonly #init: LocalDeliveryInit
  #sink: LocalSink | null = null

  constructor(init: LocalDeliveryInit) {
    this.#init = init
  }

  /** True while this peer leads and reports go to its own scheduler. */
  get attached(): boolean {
    return this.#sink !== null
  }

  /** Sends the kept reports to `sink`, then every new one, until the returned detach. */
  attach(sink: LocalSink): () => void {
    this.#sink = sink
    this.#init.reports.resend((report) => {
      this.#deliver(sink, report, 0)
      return true
    })
    return () => {
      if (this.#sink === sink) this.#sink = null
    }
  }

  /** Delivers a report if attached (a finished one is kept until taken); false otherwise. */
  deliver(report: ExecutorReport): boolean {
    const sink = this.#sink
    if (sink === null) return false
    if (report.type === 'finished') this.#init.reports.keep(report)
    this.#deliver(sink, report, 0)
    return true
  }

  #deliver(sink: LocalSink, report: ExecutorReport, attempt: number): void {
    sink(report).then(
      (taken) => {
        if (report.type !== 'finished') return
        if (taken !== false) this.#init.reports.acknowledge(report.jobId, report.fence)
        else this.#retry(sink, report, attempt)
      },
      (error: unknown) => {
        this.#init.logger.warn({ err: error }, 'report not taken locally')
        if (report.type === 'finished') this.#retry(sink, report, attempt)
      },
    )
  }

  /** A finished report whose proposal failed goes to the same sink again after a backoff, as
   * long as this peer leads and the report is still kept; otherwise the next stream's resend
   * carries it to the next coordinator. */
  #retry(sink: LocalSink, report: ExecutorReport, attempt: number): void {
    const signal = this.#init.signal()
    void sleep(this.#init.backoffMs(attempt), signal).then(() => {
      if (signal.aborted || this.#sink !== sink) return
      const kept = this.#init.reports
        .awaitingAck()
        .some((job) => job.jobId === report.jobId && job.fence === report.fence)
      if (kept) this.#deliver(sink, report, attempt + 1)
    })
  }
}
