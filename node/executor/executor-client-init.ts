// What the executor client is given and what it needs: its init, the libp2p components it
// uses, where the coordinator is, and the errors that end a stream. The client's contract is
// documented in executor-client.ts.
import type { Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { ExecutorCapacity, ExecutorLoad, ExecutorReport } from '../../protocol/index.ts'
import type { JobRunner } from './executor-jobs.ts'

/** Where the coordinator is now, as any peer of the mesh knows it. */
export interface CoordinatorAddress {
  readonly peerId: PeerId
  readonly addresses: readonly Multiaddr[]
}

/** The coordinator's first frame was not its welcome. */
export class NoWelcomeError extends Error {
  override name = 'NoWelcomeError'
}

/** The coordinator renewed no lease for a lease's time: it is gone or cut off. */
export class SilentCoordinatorError extends Error {
  override name = 'SilentCoordinatorError'
  constructor() {
    super('the coordinator went silent')
  }
}

export interface ExecutorClientInit {
  /** Asked before every connection attempt, since the coordinator changes; undefined when no
   * coordinator is known yet (the client backs off and asks again). */
  readonly findCoordinator: (signal: AbortSignal) => Promise<CoordinatorAddress | undefined>
  readonly runner: JobRunner
  /** What this executor offers; all zero when it has no engine. */
  readonly capacity: () => ExecutorCapacity
  /** By default the sum of the running jobs' reservations. */
  readonly load?: () => ExecutorLoad
  readonly logger: Logger
  /** By default the coordinator's, from its welcome. */
  readonly heartbeatMs?: number
  /** Told of each stream that passed its welcome and of each that ended. */
  readonly onConnected?: (coordinator: string) => void
  readonly onDisconnected?: (coordinator: string, reason: string) => void
  readonly ackTimeoutMs?: number
  readonly dialTimeoutMs?: number
  readonly reconnectMsMin?: number
  readonly reconnectMsMax?: number
  readonly reportBufferMax?: number
  /** Jobs this peer runs outside the client (its local link's, started while it led): the
   * hello lists them and cancels reach them, so a new coordinator finds them running here. */
  readonly localJobs?: {
    list(): readonly { jobId: string; fence: number }[]
    cancel(jobId: string): void
    /** Lets them finish for up to `drainMs`, then hands back the rest, each reported. */
    drain?(drainMs: number): Promise<void>
  }
  /** In [0, 1), for the backoff's jitter. */
  readonly random?: () => number
}

/** What the client needs of libp2p. A libp2p node fits through its `dial`:
 * `{ connectionManager: { openConnection: (target, options) => node.dial(target, options) } }`. */
export interface ExecutorClientComponents {
  readonly connectionManager: {
    openConnection(target: Multiaddr[], options?: { signal?: AbortSignal }): Promise<Connection>
  }
}

/** The coordinator in this process, while this peer leads: the scheduler's report. It
 * resolves false when the report's proposal failed, and the client sends it again. */
export type LocalSink = (report: ExecutorReport) => Promise<boolean | void>
