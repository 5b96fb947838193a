// What the executor takes and gives back for one run of a job.

import type { JobSpec } from '../../protocol/index.ts'
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

export type { RunnerOutcome as RunOutcome, RunState } from '../../protocol/index.ts'
