// Output of running jobs, as it arrives, for `logs --follow` and the app's live view. Not
// replicated: it is a convenience while a job runs; the result's tails are the record.
import { OUTPUT_STREAM_BYTES_MAX } from '../../protocol/index.ts'
import type { JobState } from '../../protocol/index.ts'

export type LiveLogEvent =
  | { readonly stream: 'stdout' | 'stderr'; readonly data: string }
  | { readonly end: true; readonly state: JobState }

type Listener = (event: LiveLogEvent) => void

interface JobLog {
  readonly chunks: { stream: 'stdout' | 'stderr'; data: string }[]
  bytes: number
  readonly listeners: Set<Listener>
}

/** Live output kept per running job, bounded like the executor's stream cap (both streams). */
const LIVE_LOG_BYTES_MAX = 2 * OUTPUT_STREAM_BYTES_MAX

/** Jobs whose live output is kept at once; the oldest is dropped past it. */
const LIVE_LOG_JOBS_MAX = 1024

export class LiveLogs {
  readonly #jobs = new Map<string, JobLog>()

  #log(jobId: string): JobLog {
    let log = this.#jobs.get(jobId)
    if (log === undefined) {
      if (this.#jobs.size >= LIVE_LOG_JOBS_MAX) {
        const oldest = this.#jobs.keys().next().value as string
        this.#jobs.delete(oldest)
      }
      log = { chunks: [], bytes: 0, listeners: new Set() }
      this.#jobs.set(jobId, log)
    }
    return log
  }

  append(jobId: string, stream: 'stdout' | 'stderr', data: string): void {
    const log = this.#log(jobId)
    if (log.bytes < LIVE_LOG_BYTES_MAX) {
      log.chunks.push({ stream, data })
      log.bytes += data.length
    }
    for (const listener of log.listeners) listener({ stream, data })
  }

  /** Tells followers the job ended and forgets its live output. */
  end(jobId: string, state: JobState): void {
    const log = this.#jobs.get(jobId)
    if (log === undefined) return
    for (const listener of log.listeners) listener({ end: true, state })
    this.#jobs.delete(jobId)
  }

  /** Replays what the job printed so far, then follows it. Returns the unsubscribe. */
  follow(jobId: string, listener: Listener): () => void {
    const log = this.#log(jobId)
    for (const chunk of log.chunks) listener(chunk)
    log.listeners.add(listener)
    return () => {
      log.listeners.delete(listener)
    }
  }
}
