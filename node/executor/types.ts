// What the executor takes and gives back for one run of a job.

import type { FailureCause, JobResult, JobSpec } from '../../protocol/index.ts'
import type { OutputListener } from './output-capture.ts'

/** One assignment of a job to this executor. `fence` is the assignment's log index. */
export interface RunRequest {
  readonly jobId: string
  readonly fence: number
  readonly spec: JobSpec
}

export interface RunHooks {
  /** Aborting cancels the job: its container is killed at once. */
  readonly signal: AbortSignal
  /** Called once, when the container has started and the code is on its way in. */
  readonly onStarted?: () => void
  /** Live output, up to OUTPUT_STREAM_BYTES_MAX per stream, cut only at whole characters. */
  readonly onOutput?: OutputListener
}

export type RunState = 'succeeded' | 'failed' | 'timed_out' | 'cancelled'

/**
 * How a run ended. `cause` says who pays for a failure: 'code' (non-zero exit, timeout, out of
 * memory: the submitter is charged for what was used), 'executor' (engine error, missing
 * image: nothing is charged and the job may be retried elsewhere). It is null on success and
 * on cancellation, which the submitter asked for and settlement treats on its own.
 */
export interface RunOutcome {
  readonly state: RunState
  readonly cause: FailureCause | null
  readonly result: JobResult
  /** A sentence the user can act on; null on success. */
  readonly error: string | null
}
