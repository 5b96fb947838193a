// The executor protocol in the daemon. While this peer leads, the ExecutorServer takes the
// other peers' executors into the scheduler; every other peer with an executor runs an
// ExecutorClient that dials the coordinator. The coordinator's own executor is its
// LocalExecutorLink, so a client is idle while its peer leads (findCoordinator: undefined).
import type { Connection, Startable } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { unfinishedJobs } from '../../ledger/index.ts'
import type { RaftDriver, State } from '../../ledger/index.ts'
import type { ExecutorCapacity } from '../../protocol/index.ts'
import { ExecutorServer } from '../coordinator/index.ts'
import type { RemoteExecutorLink, RunningJob, Scheduler } from '../coordinator/index.ts'
import { ExecutorClient } from '../executor/index.ts'
import type { CoordinatorAddress } from '../executor/index.ts'
import type { JobRunner } from '../executor/index.ts'
import type { RaftTransportComponents as MeshComponents } from '../mesh/index.ts'
import type { LocalExecutorLink } from './local-executor-link.ts'
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

/** The server's timing (EXECUTOR_LEASE_MS and EXECUTOR_HEARTBEAT_MS by default), and a hook
 * told of each grace sweep with the jobs it declared lost, for tests and logs. */
export interface ServeExecutorsOptions {
  readonly leaseMs?: number
  readonly heartbeatMs?: number
  readonly onSwept?: (lost: readonly string[]) => void
}

/** Runs the ExecutorServer while this peer leads, feeding the scheduler. */
export function serveExecutors(
  components: Components,
  ledger: RaftDriver,
  scheduler: Scheduler,
  logger: Logger,
  options: ServeExecutorsOptions = {},
): ServedExecutors {
  const lost = (jobId: string, fence: number, reason: string) => {
    ledger.propose({ type: 'job.lost', jobId, fence, reason }).catch((error: unknown) => {
      logger.info({ err: error, jobId }, 'job.lost not proposed')
    })
  }
  // An executor that was away missed what the log did meanwhile: a cancel, a loss and a rerun
  // elsewhere. What its hello lists is checked against a linearizable read (a new coordinator
  // may not have applied all it committed yet), and what the state no longer gives it stops.
  const reconcile = (link: RemoteExecutorLink, running: readonly RunningJob[]) => {
    if (running.length === 0) return
    const lastIndexAtHello = ledger.status().lastIndex
    ledger
      .read()
      .then((state) => {
        for (const { jobId } of staleJobs(state, link.peer, running, lastIndexAtHello)) {
          logger.info({ peer: link.peer, jobId }, 'stopping a job the state moved on')
          link.cancel(jobId)
          // Given to this same executor again under a newer fence it never received: the run
          // it has is the old one, so the newer assignment is lost and goes back to the queue.
          const job = state.jobs.get(jobId)
          if (job?.executor !== link.peer || job.fence === null) continue
          if (job.state !== 'assigned' && job.state !== 'running') continue
          lost(jobId, job.fence, 'its executor runs an older assignment of it')
        }
      })
      .catch((error: unknown) => {
        // Leadership moved on: the next coordinator reconciles the executor's next hello.
        logger.info({ err: error, peer: link.peer }, 'hello not reconciled')
      })
  }
  const server: ExecutorServer = new ExecutorServer(components, {
    isAdmitted: (peer) => ledger.localRead().peers.has(peer),
    ownerOf: (peer) => ledger.localRead().peers.get(peer)?.owner ?? peer,
    logger,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    events: {
      joined: (link, running) => {
        scheduler.addExecutor(link, new Set(running.map((job: RunningJob) => job.jobId)))
        reconcile(link, running)
      },
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
        // A predecessor's executor that did not reconnect within one lease is gone. Only open
        // jobs can be on one, and the history of finished ones grows without bound.
        const swept: string[] = []
        for (const job of unfinishedJobs(ledger.localRead())) {
          const on = job.executor
          if (on === null || on === ledger.id || job.fence === null || server.hasLease(on)) continue
          if (job.state !== 'assigned' && job.state !== 'running') continue
          lost(job.id, job.fence, 'its executor did not reconnect to the new coordinator')
          swept.push(job.id)
        }
        options.onSwept?.(swept)
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

/** The jobs an executor says it runs that the state does not give it under that fence: ended
 * (cancelled while it was away, say), lost and requeued, or assigned again elsewhere. A job
 * the state gives this executor under a fence past `lastIndexAtHello` is left alone: that
 * assignment was made after the hello and went out on the same stream (a leader's log holds
 * every committed entry, so any assignment of its predecessors is at or below its last index).
 * Cancels name only the job, so one sent for it now would kill that newer run. */
export function staleJobs(
  state: State,
  peer: string,
  running: readonly RunningJob[],
  lastIndexAtHello: number,
): RunningJob[] {
  return running.filter(({ jobId, fence }) => {
    const job = state.jobs.get(jobId)
    if (job === undefined) return true
    const active = job.state === 'assigned' || job.state === 'running'
    if (active && job.executor === peer && job.fence !== null && job.fence > lastIndexAtHello) {
      return false
    }
    return !active || job.executor !== peer || job.fence !== fence
  })
}

/** What an executor without a usable engine offers: nothing, until its status changes. */
export const NO_CAPACITY: ExecutorCapacity = { cpus: 0, memoryMb: 0, runtimes: [] }

/** This peer's side of the coordinator, for its executor's jobs while this peer leads. */
export interface LocalCoordinator {
  readonly scheduler: Scheduler
  readonly link: LocalExecutorLink
}

/** Dials the coordinator with this peer's executor, until the returned stop, which lets the
 * running jobs finish for up to `drainMs` (or the stop's own, 0 for a peer that left). While this peer leads there is none to
 * dial: the jobs the client took from a predecessor are handed to this peer's local link (it
 * cancels them, the scheduler counts them as running here) and their reports go straight to
 * this peer's scheduler, so they reach the coordinator and are not declared lost. The other
 * way round, the jobs the local link took while this peer led are listed in the client's hello
 * to the next coordinator, and its cancels reach them; their reports go through the client
 * always, so they reach whichever peer leads and a result is kept until it is committed. */
export function dialCoordinator(
  components: Components,
  ledger: RaftDriver,
  runner: JobRunner,
  capacity: () => ExecutorCapacity,
  logger: Logger,
  local: LocalCoordinator,
  drainMs = 0,
): (drainNowMs?: number) => Promise<void> {
  const findCoordinator = async (): Promise<CoordinatorAddress | undefined> => {
    const leader = ledger.status().leader
    if (leader === undefined || leader === null || leader === ledger.id) return undefined
    const addresses = ledger.localRead().peers.get(leader)?.addresses ?? []
    if (addresses.length === 0) return undefined
    return { peerId: peerIdFromString(leader), addresses: addresses.map((a) => multiaddr(a)) }
  }
  const client = new ExecutorClient(
    { connectionManager: components.connectionManager },
    { findCoordinator, runner, capacity, logger, localJobs: local.link },
  )
  local.link.adopt(client)
  local.link.routeThrough((report) => client.relay(report))
  let detach: (() => void) | null = null
  const lead = (leading: boolean) => {
    detach?.()
    detach = leading ? client.serveLocally((report) => local.scheduler.report(report)) : null
  }
  const unsubscribe = ledger.onLeadership(lead)
  lead(ledger.status().role === 'leader')
  client.start()
  // A stop drains the client's jobs and the local link's together, within one drain: those
  // that do not finish in it are handed back, each reported (the link's through the client),
  // so they are requeued at once.
  return async (drainNowMs = drainMs) => {
    await client.stop(drainNowMs)
    unsubscribe()
    lead(false)
  }
}
