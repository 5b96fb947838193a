// The executor protocol in the daemon. While this peer leads, the ExecutorServer takes the
// other peers' executors into the scheduler; every other peer with an executor runs an
// ExecutorClient that dials the coordinator. The coordinator's own executor is its
// LocalExecutorLink, so a client is idle while its peer leads (findCoordinator: undefined).
import type { Connection, Startable } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { RaftDriver } from '../../ledger/index.ts'
import type { ExecutorCapacity } from '../../protocol/index.ts'
import { ExecutorServer } from '../coordinator/index.ts'
import type { RunningJob, Scheduler } from '../coordinator/index.ts'
import { ExecutorClient } from '../executor/index.ts'
import type { CoordinatorAddress } from '../executor/index.ts'
import type { JobRunner } from '../executor/index.ts'
import type { RaftTransportComponents as MeshComponents } from '../mesh/index.ts'
import type { ExecutorViewEntry } from './coordinator-view.ts'

/** libp2p's components as the executor protocol needs them; `openConnection` is libp2p's own,
 * outside the narrower MeshComponents type. */
type Components = MeshComponents & {
  readonly connectionManager: {
    openConnection(target: Multiaddr[], options?: { signal?: AbortSignal }): Promise<Connection>
  }
}

/** A libp2p service that only keeps the node's components, for services made after the node
 * started (the executor exists only once the ledger does). */
export class ComponentsPort {
  #components: Components | null = null

  service = (components: MeshComponents): Startable => {
    this.#components = components as Components
    return { start: () => undefined, stop: () => undefined }
  }

  get components(): Components {
    if (this.#components === null) throw new Error('the mesh node has not started')
    return this.#components
  }
}

export interface ServedExecutors {
  /** What the executors connected here offer now. */
  readonly capacities: () => ExecutorCapacity[]
  /** The executors connected here, with their load and last heartbeat (`gridx peers`). */
  readonly executors: () => ExecutorViewEntry[]
  readonly stop: () => Promise<void>
}

/** Runs the ExecutorServer while this peer leads, feeding the scheduler. */
export function serveExecutors(
  components: Components,
  ledger: RaftDriver,
  scheduler: Scheduler,
  logger: Logger,
): ServedExecutors {
  const lost = (jobId: string, fence: number, reason: string) => {
    ledger.propose({ type: 'job.lost', jobId, fence, reason }).catch((error: unknown) => {
      logger.info({ err: error, jobId }, 'job.lost not proposed')
    })
  }
  const server: ExecutorServer = new ExecutorServer(components, {
    isAdmitted: (peer) => ledger.localRead().peers.has(peer),
    ownerOf: (peer) => ledger.localRead().peers.get(peer)?.owner ?? peer,
    logger,
    events: {
      joined: (link, running) =>
        scheduler.addExecutor(link, new Set(running.map((job: RunningJob) => job.jobId))),
      left: (link) => scheduler.removeExecutor(link.peer, link),
      capacityChanged: () => scheduler.capacityChanged(),
      report: (_link, report) => scheduler.report(report),
      leaseExpired: (peer, running) => {
        scheduler.removeExecutor(peer)
        for (const job of running) lost(job.jobId, job.fence, 'its executor went silent')
      },
    },
  })
  let abort = new AbortController()
  const lead = (leading: boolean) => {
    abort.abort(new Error('leadership changed'))
    abort = new AbortController()
    if (!leading) {
      server.stop().catch((error: unknown) => {
        logger.warn({ err: error }, 'the executor server did not stop cleanly')
      })
      return
    }
    const { signal } = abort
    server
      .start()
      .then(async () => {
        await server.whenGraceOver(signal)
        // A predecessor's executor that did not reconnect within one lease is gone.
        for (const job of ledger.localRead().jobs.values()) {
          const on = job.executor
          if (on === null || on === ledger.id || job.fence === null || server.hasLease(on)) continue
          if (job.state !== 'assigned' && job.state !== 'running') continue
          lost(job.id, job.fence, 'its executor did not reconnect to the new coordinator')
        }
      })
      .catch((error: unknown) => {
        // Leadership moved on or the daemon stops: the sweep belongs to this term only.
        if (signal.aborted) return
        logger.warn({ err: error }, 'the executor server did not start or sweep')
      })
  }
  const unsubscribe = ledger.onLeadership(lead)
  lead(ledger.status().role === 'leader')
  return {
    capacities: () =>
      server.links().flatMap((link) => {
        const capacity = link.capacity()
        return capacity === null ? [] : [capacity]
      }),
    executors: () =>
      server.links().map((link) => ({
        peerId: link.peer,
        capacity: link.capacity(),
        load: link.load(),
        lastHeartbeatMs: server.lastHeartbeatMs(link.peer),
      })),
    stop: async () => {
      unsubscribe()
      abort.abort(new Error('stopped'))
      await server.stop()
    },
  }
}

/** What an executor without a usable engine offers: nothing, until its status changes. */
export const NO_CAPACITY: ExecutorCapacity = { cpus: 0, memoryMb: 0, runtimes: [] }

/** Dials the coordinator with this peer's executor; idle while this peer leads. */
export function dialCoordinator(
  components: Components,
  ledger: RaftDriver,
  runner: JobRunner,
  capacity: () => ExecutorCapacity,
  logger: Logger,
): () => Promise<void> {
  const findCoordinator = async (): Promise<CoordinatorAddress | undefined> => {
    const leader = ledger.status().leader
    if (leader === undefined || leader === null || leader === ledger.id) return undefined
    const addresses = ledger.localRead().peers.get(leader)?.addresses ?? []
    if (addresses.length === 0) return undefined
    return { peerId: peerIdFromString(leader), addresses: addresses.map((a) => multiaddr(a)) }
  }
  const client = new ExecutorClient(
    { connectionManager: components.connectionManager },
    { findCoordinator, runner, capacity, logger },
  )
  client.start()
  return () => client.stop()
}
