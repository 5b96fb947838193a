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
  /** Followers of jobs whose output was dropped (to make room, or as this peer stopped
   * leading): they are kept to hear the job's end, and their tails then come from the state.
   * As many as there are follows, which their streams bound. */
  readonly #followersOnly = new Map<string, Set<Listener>>()

  /** Jobs whose live output is kept now. */
  get size(): number {
    return this.#jobs.size
  }

  #log(jobId: string): JobLog {
    let log = this.#jobs.get(jobId)
    if (log === undefined) {
      if (this.#jobs.size >= LIVE_LOG_JOBS_MAX) this.#evict()
      const listeners = this.#followersOnly.get(jobId) ?? new Set<Listener>()
      this.#followersOnly.delete(jobId)
      log = { chunks: [], bytes: 0, last: null, listeners }
      this.#jobs.set(jobId, log)
    }
    return log
  }

  /** Makes room for one job: the oldest that nobody follows goes, or, when every job kept is
   * followed, the oldest one's output, while its followers stay to hear its end. */
  #evict(): void {
    let victim: string | undefined
    for (const [jobId, log] of this.#jobs) {
      if (log.listeners.size === 0) {
        victim = jobId
        break
      }
    }
    if (victim === undefined) {
      victim = this.#jobs.keys().next().value as string
      this.#followersOnly.set(victim, this.#jobs.get(victim)!.listeners)
    }
    this.#jobs.delete(victim)
  }

  /** This peer stopped leading: the output it kept is no coordinator's any more, and later
   * chunks go to the new one. Drops all of it; followers stay, to hear each job's end. */
  release(): void {
    for (const [jobId, log] of this.#jobs) {
      if (log.listeners.size > 0) this.#followersOnly.set(jobId, log.listeners)
    }
    this.#jobs.clear()
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
    const listeners = this.#jobs.get(jobId)?.listeners ?? this.#followersOnly.get(jobId)
    if (listeners === undefined) return
    this.#jobs.delete(jobId)
    this.#followersOnly.delete(jobId)
    for (const listener of [...listeners]) listener({ end: true, state })
  }

  /** Replays what the job printed after `after` (everything kept when absent), then follows
   * it. Returns the unsubscribe. */
  follow(jobId: string, listener: Listener, after: LogCursor | null = null): () => void {
    const log = this.#log(jobId)
    for (const chunk of log.chunks) if (isAfter(chunk, after)) listener(chunk)
    const { listeners } = log
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0 && this.#followersOnly.get(jobId) === listeners) {
        this.#followersOnly.delete(jobId)
      }
    }
  }
}
