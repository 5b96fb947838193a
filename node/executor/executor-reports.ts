// Reports on their way from an executor to whichever coordinator will take them: a bounded
// buffer that outlives a stream, and the cutting of output into chunks a frame may carry.
import { EXECUTOR_REPORT_BUFFER_MAX, type ExecutorReport } from '../../protocol/index.ts'

/**
 * Reports not yet known to be delivered, oldest first. A finished report stays until the
 * coordinator acknowledges it (it decides a job's fate and payment); started and output
 * reports stay only until written. When full, the oldest output or started report goes first
 * (output is a live view, the result has the tail); only a buffer of finished reports alone
 * drops its oldest finished one, whose job the coordinator will then declare lost.
 */
export class ReportBuffer {
  readonly #max: number
  readonly #reports: ExecutorReport[] = []
  #dropped = 0
  readonly #settledWaiters = new Set<() => void>()

  constructor(max = EXECUTOR_REPORT_BUFFER_MAX) {
    this.#max = max
  }

  get size(): number {
    return this.#reports.length
  }

  /** Reports discarded because the buffer was full, since it was made. */
  get dropped(): number {
    return this.#dropped
  }

  /** Keeps a report that could not be written now, or a finished one awaiting its ack. */
  keep(report: ExecutorReport): void {
    if (this.#reports.length >= this.#max) {
      const lesser = this.#reports.findIndex((kept) => kept.type !== 'finished')
      this.#reports.splice(lesser === -1 ? 0 : lesser, 1)
      this.#dropped += 1
    }
    this.#reports.push(report)
  }

  /** Hands every kept report to `send`, in order, and keeps only the finished ones (until
   * their ack) and those `send` could not take (it returned false: stop there). */
  resend(send: (report: ExecutorReport) => boolean): void {
    const all = this.#reports.splice(0)
    let at = 0
    for (; at < all.length; at += 1) {
      const report = all[at]!
      if (!send(report)) break
      if (report.type === 'finished') this.#reports.push(report)
    }
    this.#reports.push(...all.slice(at))
  }

  /** The runs whose finished report is kept until the coordinator acknowledges it. */
  awaitingAck(): { jobId: string; fence: number }[] {
    return this.#reports
      .filter((kept) => kept.type === 'finished')
      .map(({ jobId, fence }) => ({ jobId, fence }))
  }

  /** The coordinator has the finished report of this run: forget it. */
  acknowledge(jobId: string, fence: number): void {
    const at = this.#reports.findIndex(
      (kept) => kept.type === 'finished' && kept.jobId === jobId && kept.fence === fence,
    )
    if (at !== -1) this.#reports.splice(at, 1)
    if (this.awaitingAck().length > 0) return
    for (const settled of [...this.#settledWaiters]) settled()
  }

  /** Resolves once no finished report awaits its ack, after `timeoutMs`, or when `signal`
   * aborts (the stream ended): a stopping executor waits for the coordinator to take its last
   * results, but no longer than that. */
  settled(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.awaitingAck().length === 0 || signal?.aborted === true) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs)
      const waiters = this.#settledWaiters
      waiters.add(done)
      signal?.addEventListener('abort', done, { once: true })
      function done(): void {
        clearTimeout(timer)
        waiters.delete(done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
    })
  }
}

/** Cuts text into pieces of at most `maxBytes` of UTF-8, never inside a character. A UTF-16
 * unit is at most 3 bytes (a pair of them, 4), so pieces of maxBytes / 3 units always fit. */
export function splitOutput(text: string, maxBytes: number): string[] {
  const units = Math.max(2, Math.floor(maxBytes / 3))
  if (text.length <= units) return [text]
  const pieces: string[] = []
  let start = 0
  while (start < text.length) {
    let end = Math.min(text.length, start + units)
    const last = text.charCodeAt(end - 1)
    // Do not separate a high surrogate from the low one after it.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1
    pieces.push(text.slice(start, end))
    start = end
  }
  return pieces
}
