// What the coordinator needs of an executor, wherever it runs. The local executor implements
// it in-process; a remote one will implement it over a libp2p stream.
import type { JobSpec, Runtime } from '../../protocol/index.ts'
import type { RunOutcome } from '../../ledger/index.ts'

export interface ExecutorCapacity {
  readonly cpus: number
  readonly memoryMb: number
  readonly runtimes: readonly Runtime[]
}

export interface Assignment {
  readonly jobId: string
  /** Log index of the assignment: every report must carry it back. */
  readonly fence: number
  readonly spec: JobSpec
}

/** Reports an executor sends back about one assignment. */
export type ExecutorReport =
  | { readonly type: 'started'; readonly jobId: string; readonly fence: number }
  | {
      readonly type: 'output'
      readonly jobId: string
      readonly fence: number
      readonly stream: 'stdout' | 'stderr'
      readonly data: string
    }
  | {
      readonly type: 'finished'
      readonly jobId: string
      readonly fence: number
      readonly outcome: RunOutcome
    }

export interface ExecutorLink {
  /** PeerId of the executor. */
  readonly peer: string
  /** Account paid for the executor's work. */
  readonly owner: string
  /** Null when the executor cannot run jobs now. */
  capacity(): ExecutorCapacity | null
  /** Starts an assignment; reports arrive through the sink given when the link was made. */
  assign(assignment: Assignment): void
  /** Kills the job's container if it is running there. */
  cancel(jobId: string): void
}
