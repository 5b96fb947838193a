// What the executor server is given and what it tells: its init, its events, the libp2p
// components it uses. Its contract (leases, grace) is documented in executor-server.ts.
import type { StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { ExecutorReport } from '../../protocol/index.ts'
import type { RemoteExecutorLink, RunningJob } from './executor-session.ts'

/** What the scheduler hears. Callbacks run on the server's read loop: they should queue work,
 * not do it. A throw is logged and changes nothing else. */
export interface ExecutorServerEvents {
  /** A stream passed its hello; `running` is what the executor says it runs. A second
   * `joined` for a peer replaces its link (it reconnected before its old stream was reaped):
   * no `left` comes for the replaced one. */
  readonly joined?: (link: RemoteExecutorLink, running: readonly RunningJob[]) => void
  /** The link's stream ended. Its lease may still run: see the lease contract above. */
  readonly left?: (link: RemoteExecutorLink, reason: string) => void
  /** A heartbeat changed the link's capacity or load: the queue may fit somewhere now. */
  readonly capacityChanged?: (link: RemoteExecutorLink) => void
  /** No heartbeat for a lease: the jobs believed to run on `peer` are lost. */
  readonly leaseExpired?: (peer: string, running: readonly RunningJob[]) => void
  /** A report, with its fence unchecked (the log checks it). A finished report is acked (the
   * executor forgets it) once the returned promise resolves, unless with false: resolve it
   * once the report is committed (or refused as stale), not before, and with false when its
   * proposal failed. Then the server ends the stream, and the executor sends the report again
   * on its next one, to whichever peer is coordinator by then. */
  readonly report?: (
    link: RemoteExecutorLink,
    report: ExecutorReport,
  ) => void | Promise<boolean | void>
}

export interface ExecutorServerInit {
  /** Admission, from the replicated state. Streams of other peers are closed at once. */
  readonly isAdmitted: (peerId: string) => boolean
  /** Account paid for a peer's work; by default the peer's own key (DESIGN section 7). */
  readonly ownerOf?: (peerId: string) => string
  readonly events: ExecutorServerEvents
  readonly logger: Logger
  readonly leaseMs?: number
  readonly heartbeatMs?: number
  readonly ackTimeoutMs?: number
  readonly frameBytesMax?: number
  readonly executorsMax?: number
  readonly now?: () => number
}

/** What the server needs of libp2p. A libp2p node itself fits as `registrar`, so the
 * coordinator role can start and stop the server as leadership comes and goes:
 * `new ExecutorServer({ registrar: node }, init)`. */
export interface ExecutorServerComponents {
  readonly registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string): Promise<void>
  }
}

/** Counts of what was refused at the door or cut off for bad frames, for tests and metrics. */
export interface ExecutorServerStats {
  refusedStreams: number
  invalidFrames: number
}
