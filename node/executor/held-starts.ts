// Started reports on their way out, held until the event loop's next turn (setImmediate: after
// the callbacks under way). A run that ends meanwhile, shorter than a round trip to the
// coordinator, then sends its finished report alone, which the coordinator commits as start
// and finish in one log entry instead of two.
import type { ExecutorReport } from '../../protocol/index.ts'

export class HeldStarts {
  readonly #send: (report: ExecutorReport) => void
  /** At most one per job: the executor runs a job once at a time. */
  readonly #held = new Map<string, ExecutorReport>()
  #queued = false

  /** `send` takes each report that goes out, in order. */
  constructor(send: (report: ExecutorReport) => void) {
    this.#send = send
  }

  /** Sends `report`, or holds it until the next turn if it is a start. Another report of a
   * held run sends the start first (so that output follows it), except its finished report,
   * which replaces it. */
  send(report: ExecutorReport): void {
    if (report.type === 'started') {
      this.#hold(report)
      return
    }
    const held = this.#held.get(report.jobId)
    if (held?.fence === report.fence) {
      this.#held.delete(report.jobId)
      if (report.type !== 'finished') this.#send(held)
    }
    this.#send(report)
  }

  #hold(report: ExecutorReport): void {
    const earlier = this.#held.get(report.jobId)
    if (earlier !== undefined) this.#send(earlier)
    this.#held.set(report.jobId, report)
    if (this.#queued) return
    this.#queued = true
    setImmediate(() => {
      this.#queued = false
      const held = [...this.#held.values()]
      this.#held.clear()
      for (const start of held) this.#send(start)
    })
  }
}
