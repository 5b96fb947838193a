// Output of running jobs, as it arrives, for `logs --follow` and the app's live view. Not
// replicated: it is a convenience while a job runs; the result's tails are the record. Each
// chunk is numbered by the executor that produced it (the run's fence and a sequence in the
// run), so that a follower which resumes (after a reconnect, or on a new coordinator that the
// executor reports to now) asks for what comes after the last chunk it saw and gets no chunk
// twice; chunks a coordinator never received are a gap the follower can see in the numbers.
import { LIVE_LOG_BYTES_MAX, LIVE_LOG_JOBS_MAX } from '../../protocol/index.ts'
import type { JobState } from '../../protocol/index.ts'

/** Where a chunk stands in a job's output: later runs (a retry's higher fence) come after. */
export interface LogCursor {
  readonly fence: number
  readonly seq: number
}

export interface LiveLogChunk extends LogCursor {
  readonly stream: 'stdout' | 'stderr'
  readonly data: string
}

export type LiveLogEvent = LiveLogChunk | { readonly end: true; readonly state: JobState }

type Listener = (event: LiveLogEvent) => void

interface JobLog {
  readonly chunks: LiveLogChunk[]
  bytes: number
  /** The newest chunk appended, or null before the first. */
  last: LogCursor | null
  readonly listeners: Set<Listener>
}

/** True when `cursor` comes after `than` (null: before everything). */
export function isAfter(cursor: LogCursor, than: LogCursor | null): boolean {
  if (than === null) return true
  return cursor.fence > than.fence || (cursor.fence === than.fence && cursor.seq > than.seq)
}

export class LiveLogs {
  readonly #jobs = new Map<string, JobLog>()

  /** Jobs whose live output is kept now. */
  get size(): number {
    return this.#jobs.size
  }

  #log(jobId: string): JobLog {
    let log = this.#jobs.get(jobId)
    if (log === undefined) {
      if (this.#jobs.size >= LIVE_LOG_JOBS_MAX) {
        const oldest = this.#jobs.keys().next().value as string
        this.#jobs.delete(oldest)
      }
      log = { chunks: [], bytes: 0, last: null, listeners: new Set() }
      this.#jobs.set(jobId, log)
    }
    return log
  }

  /** Appends a chunk numbered `at` by its executor; without `at` (an executor that does not
   * number its output) the next number of the current run. A chunk at or before the newest
   * is a resent duplicate and dropped; a higher fence is a new run and starts afresh. */
  append(jobId: string, stream: 'stdout' | 'stderr', data: string, at?: LogCursor): void {
    const log = this.#log(jobId)
    const cursor = at ?? { fence: log.last?.fence ?? 0, seq: (log.last?.seq ?? -1) + 1 }
    if (!isAfter(cursor, log.last)) return
    if (log.last !== null && cursor.fence > log.last.fence) {
      log.chunks.length = 0
      log.bytes = 0
    }
    log.last = cursor
    const chunk: LiveLogChunk = { stream, data, fence: cursor.fence, seq: cursor.seq }
    if (log.bytes < LIVE_LOG_BYTES_MAX) {
      log.chunks.push(chunk)
      log.bytes += data.length
    }
    for (const listener of log.listeners) listener(chunk)
  }

  /** Tells followers the job ended and forgets its live output. */
  end(jobId: string, state: JobState): void {
    const log = this.#jobs.get(jobId)
    if (log === undefined) return
    for (const listener of log.listeners) listener({ end: true, state })
    this.#jobs.delete(jobId)
  }

  /** Replays what the job printed after `after` (everything kept when absent), then follows
   * it. Returns the unsubscribe. */
  follow(jobId: string, listener: Listener, after: LogCursor | null = null): () => void {
    const log = this.#log(jobId)
    for (const chunk of log.chunks) if (isAfter(chunk, after)) listener(chunk)
    log.listeners.add(listener)
    return () => {
      log.listeners.delete(listener)
    }
  }
}
