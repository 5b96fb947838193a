// What the coordinator needs of an executor, wherever it runs. The local executor implements
// it in-process; a remote one implements it over `/gridx/executor/1.0.0` (executor-server.ts).
import type {
  ExecutorCapacity,
  ExecutorLoad,
  ExecutorReport,
  JobSpec,
  RunOutcome,
} from '../../protocol/index.ts'

// Defined once, in protocol/executor.ts, as the schemas the wire checks; re-exported here so
// the scheduler and the local link keep importing them from the coordinator.
export type { ExecutorCapacity, ExecutorLoad, ExecutorReport, RunOutcome }

export interface Assignment {
  readonly jobId: string
  /** Log index of the assignment: every report must carry it back. */
  readonly fence: number
  readonly spec: JobSpec
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
