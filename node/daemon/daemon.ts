// The daemon: one peer of a mesh (daemon-mesh.ts founds, joins or rejoins it). While this peer
// is the Raft leader it is the coordinator: the scheduler and the autopilot run only then. With
// a container engine it is an executor: of its own jobs while it leads, else through the
// executor protocol (daemon-executors.ts). Start order is the order of dependence; stop is its
// reverse, with the drain of running jobs first.
import { readFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { stepDown } from '../../ledger/index.ts'
import type { Clock, RaftDriver, State } from '../../ledger/index.ts'
import { LEADERSHIP_TRANSFER_TIMEOUT_MS, SHUTDOWN_DRAIN_MS } from '../../protocol/index.ts'
import { LiveLogs, Scheduler } from '../coordinator/index.ts'
import { startLogsRelay } from './daemon-logs.ts'
import type { ExecutorCapacity } from '../coordinator/index.ts'
import { createGateway } from '../gateway/index.ts'
import type { Gateway, GatewayAddress } from '../gateway/index.ts'
import { loadOrCreateIdentity } from '../mesh/index.ts'
import type { MeshPartition } from '../mesh/index.ts'
import type { JoinToken, Results } from '../../protocol/index.ts'
import type { JobFiles } from '../executor/index.ts'
import { ApiService } from './api-service.ts'
import { startDaemonBlobs } from './daemon-blobs.ts'
import type { DaemonBlobs } from './daemon-blobs.ts'
import {
  ensureDataDir,
  loadOrCreateApiToken,
  removeDaemonInfo,
  writeDaemonInfo,
} from '../local/index.ts'
import { startDaemonMesh } from './daemon-mesh.ts'
import { leaveMesh } from './mesh-leave.ts'
import { dialCoordinator, NO_CAPACITY, serveExecutors } from './daemon-executors.ts'
import { createDaemonRegistry } from './daemon-metrics.ts'
import { JoinTokens } from './join-tokens.ts'
import { LedgerMetrics } from './ledger-metrics.ts'
import { LocalExecutorLink } from './local-executor-link.ts'
import type { JobRunner } from './local-executor-link.ts'
import { fetchCoordinatorView, serveCoordinatorView } from './coordinator-view.ts'
import { MeshViews } from './mesh-views.ts'
import { Subscriptions } from './subscriptions.ts'

type LeftMesh = Results['mesh.leave']

/** What the daemon needs of its executor (the Docker executor implements it). */
export interface LocalExecutor extends JobRunner {
  /** Connects to the engine and removes containers a crashed daemon left behind. */
  start(): Promise<unknown>
  stop(): Promise<void>
  /** `available` is false, with the problem in words, when this peer cannot run jobs. */
  status(): {
    readonly available: boolean
    readonly capacity: ExecutorCapacity
    readonly problem: string | null
    readonly load: { runningJobs: number; cpusInUse: number; memoryMbInUse: number }
  }
  /** Tells when `available` or `problem` changes after start (an engine or image appeared). */
  onStatusChange?(listener: (status: ReturnType<LocalExecutor['status']>) => void): () => void
  /** Gives jobs their inputs/ and outputs/ (an executor without it runs jobs without files). */
  useFiles?(files: JobFiles): void
}

interface StopStep {
  readonly name: string
  readonly stop: () => Promise<void> | void
}

export interface DaemonInit {
  readonly dataDir: string
  readonly apiHost: string
  readonly apiPort: number
  readonly p2pHost: string
  readonly p2pPort: number
  /** The peer-to-peer WebSocket port; by default `p2pPort` + 1. */
  readonly p2pWsPort?: number
  readonly logger: Logger
  readonly clock: Clock
  /** Null runs a peer that routes and serves but runs no jobs (`--no-executor`). */
  readonly createExecutor: ((peerId: string) => LocalExecutor | Promise<LocalExecutor>) | null
  readonly staticDir?: string
  readonly drainMs?: number
  /** Web origins besides the daemon's own that may use the API (`--allow-origin`). */
  readonly allowOrigins?: readonly string[]
  /** Raft's tick (`--raft-tick-ms`) and election timeout in ticks (`--election-ticks`). */
  readonly raftTickMs?: number
  readonly electionTicks?: number
  /** `gridx start --join HOST[:PORT] --token T`: join that mesh (a data dir of no mesh only). */
  readonly join?: { readonly address: string; readonly token: JoinToken }
  /** Voters a new mesh keeps (`--voters`); a joiner takes the mesh's. */
  readonly voterTarget?: 1 | 3 | 5
  /** Millicredits a new mesh grants each owner (`--join-grant`), recorded in its genesis. */
  readonly joinGrantMc?: number
  /** Requests a second the API token may make (`--token-rate`); its burst is twice that. */
  readonly tokenRatePerS?: number
  /** Test-only: cuts this peer off from others while it runs (main.ts never sets it). */
  readonly partition?: MeshPartition
}

export class Daemon {
  readonly #init: DaemonInit
  readonly #stack: StopStep[] = []
  #ledger: RaftDriver | null = null
  #address: GatewayAddress | null = null
  #token = ''
  #peerId = ''
  #owner = ''
  #meshId = ''
  #p2pAddresses: readonly string[] = []
  #localLink: LocalExecutorLink | null = null
  /** Set once this peer has left the mesh: its executor hands back at once on stop. */
  #leaving = false
  readonly #left = Promise.withResolvers<LeftMesh>()

  constructor(init: DaemonInit) {
    this.#init = init
  }

  get address(): GatewayAddress {
    if (this.#address === null) throw new Error('the daemon is not started')
    return this.#address
  }

  get token(): string {
    return this.#token
  }

  get peerId(): string {
    return this.#peerId
  }

  /** Resolves once this peer has left the mesh (`gridx leave`), after the answer to the call
   * went out: the caller (`gridx start`) then stops the daemon and says so. */
  get left(): Promise<LeftMesh> {
    return this.#left.promise
  }

  /** The peer-to-peer addresses this peer listens on (a joiner's --join takes one). */
  get p2pAddresses(): readonly string[] {
    return this.#p2pAddresses
  }

  /** This replica's state as applied so far (a local read, for tests and diagnostics). */
  ledgerState(): State {
    if (this.#ledger === null) throw new Error('the daemon is not started')
    return this.#ledger.localRead()
  }

  /** The URL that opens the web app already signed in: the token rides in the fragment, which
   * browsers never send to a server. */
  get appUrl(): string {
    return `${this.address.url}/#token=${this.#token}`
  }

  async start(): Promise<void> {
    const { dataDir, logger } = this.#init
    await ensureDataDir(dataDir)
    const identity = await loadOrCreateIdentity(dataDir)
    this.#peerId = identity.peerId
    this.#token = await loadOrCreateApiToken(dataDir)

    const { mesh, port, ledger, meshId, membership } = await startDaemonMesh(
      this.#init,
      identity,
      (name, stop) => this.#push(name, stop),
    )
    this.#ledger = ledger
    this.#meshId = meshId
    // Runs before the ledger stops: a planned stop of the leader has no election gap.
    this.#push('leadership', () => stepDown(ledger, LEADERSHIP_TRANSFER_TIMEOUT_MS))
    // The owner admission recorded: this peer's own account, or the account of the peer whose
    // same-owner token it joined with. The API token acts as it; the executor earns for it.
    this.#owner = ledger.localRead().peers.get(identity.peerId)?.owner ?? identity.peerId
    // A restarted peer has its account already, and must start without a quorum.
    if (!ledger.localRead().accounts.has(this.#owner)) {
      await this.#propose(ledger, { type: 'account.open', account: this.#owner })
    }
    const liveLogs = new LiveLogs()
    const scheduler = new Scheduler({ ledger, liveLogs, clock: this.#init.clock, logger })
    const registry = createDaemonRegistry()
    const ledgerMetrics = new LedgerMetrics(registry, ledger)
    this.#push('ledger metrics', () => ledgerMetrics.stop())

    // The scheduler is the coordinator's: it runs while this peer leads.
    const unsubscribe = ledger.onLeadership((leading) => {
      if (leading) scheduler.start()
      else scheduler.stop()
    })
    if (ledger.status().role === 'leader') scheduler.start()
    this.#push('scheduler', () => {
      unsubscribe()
      scheduler.stop()
    })
    const served = serveExecutors(port.components, ledger, scheduler, logger)
    this.#push('executor server', served.stop)
    const blobs = await startDaemonBlobs(dataDir, port.components, ledger, logger)
    this.#push('blobs', blobs.stop)
    const executor = await this.#startExecutor(ledger, scheduler, blobs)
    if (executor !== null && this.#localLink !== null) {
      const capacity = () => {
        const status = executor.status()
        return status.available ? status.capacity : NO_CAPACITY
      }
      const local = { scheduler, link: this.#localLink }
      const drainMs = this.#init.drainMs ?? SHUTDOWN_DRAIN_MS
      const stop = dialCoordinator(
        port.components,
        ledger,
        executor,
        capacity,
        logger,
        local,
        drainMs,
      )
      // A peer that left has had its jobs requeued elsewhere: it kills what still runs at once.
      this.#push('executor client', () => stop(this.#leaving ? 0 : undefined))
    }

    const views = new MeshViews({
      ledger,
      meshId: this.#meshId,
      peerId: this.#peerId,
      owner: this.#owner,
      mesh,
      executor,
      members: () => membership.members(),
      executors: served.executors,
      fetch: (peer, addresses) => fetchCoordinatorView(port.components, peer, addresses),
      now: () => this.#init.clock.now(),
    })
    const isAdmitted = (peer: string) => ledger.localRead().peers.has(peer)
    const view = { isAdmitted, view: () => views.local(), logger }
    this.#push('view server', await serveCoordinatorView(port.components, view))
    const peers = () => views.peers()
    const api = new ApiService({
      ledger,
      executors: () => {
        // Jobs run where the coordinator places them: a follower does not see its executors.
        if (ledger.status().role !== 'leader') return null
        const status = executor?.status()
        return [...(status?.available ? [status.capacity] : []), ...served.capacities()]
      },
      executorProblem: () =>
        executor === null
          ? 'this peer was started with --no-executor, and no other peer offers it'
          : executor.status().problem,
      meshInfo: () => views.info(),
      meshPeers: peers,
      joinTokens: new JoinTokens({ dataDir, peerId: this.#peerId, ledger }),
      owner: this.#owner,
      blobSize: (cid) => blobs.store.size(cid),
      shardBlobs: {
        readBytes: async (cid) => readFile(blobs.store.path(cid)),
        writeBytes: async (bytes) => blobs.store.write(null, bytes.length, Readable.from([bytes])),
      },
      leave: async () => {
        const left = await leaveMesh({
          ledger,
          dataDir,
          meshId: this.#meshId,
          members: () => membership.members(),
          clock: this.#init.clock,
          logger,
        })
        this.#leaving = true
        // After this turn, so that the answer is written before the daemon begins to stop.
        setImmediate(() => this.#left.resolve(left))
        return left
      },
    })
    const relay = await startLogsRelay(port.components, ledger, liveLogs, logger)
    this.#push('logs relay', relay.stop)
    const subscriptions = new Subscriptions({
      ledger,
      liveLogs: relay.relay,
      meshPeers: peers,
      logger,
    })
    await this.#startGateway(api, subscriptions, registry, blobs)
    await writeDaemonInfo(dataDir, {
      apiUrl: this.address.url,
      pid: process.pid,
      peerId: this.#peerId,
      startedAt: new Date(this.#init.clock.now()).toISOString(),
    })
    this.#push('daemon info', () => removeDaemonInfo(dataDir))
    this.#p2pAddresses = mesh.addresses()
    logger.info({ api: this.address.url, peerId: this.#peerId, p2p: mesh.addresses() }, 'started')
  }

  /** Stops everything started, newest first; a failing step does not stop the rest. */
  async stop(): Promise<void> {
    while (this.#stack.length > 0) {
      const step = this.#stack.pop() as StopStep
      try {
        await step.stop()
      } catch (error) {
        this.#init.logger.error({ err: error, step: step.name }, 'stop step failed')
      }
    }
    this.#init.logger.info('stopped')
  }

  #push(name: string, stop: () => Promise<void> | void): void {
    this.#stack.push({ name, stop })
  }

  async #startExecutor(
    ledger: RaftDriver,
    scheduler: Scheduler,
    blobs: DaemonBlobs,
  ): Promise<LocalExecutor | null> {
    const { createExecutor, logger } = this.#init
    if (createExecutor === null) {
      scheduler.addExecutor(this.#noExecutorLink(), new Set())
      return null
    }
    const executor = await createExecutor(this.#peerId)
    executor.useFiles?.(blobs.workspaces)
    await executor.start()
    this.#push('executor', () => executor.stop())
    const problem = executor.status().problem
    if (problem !== null) logger.warn(`this peer cannot run jobs: ${problem}`)
    const unsubscribe = executor.onStatusChange?.((status) => {
      if (status.problem === null)
        logger.info({ notice: true, capacity: status.capacity }, 'this peer runs jobs now')
      else if (status.available) logger.warn(`this peer runs some jobs only: ${status.problem}`)
      else logger.warn(`this peer cannot run jobs: ${status.problem}`)
      scheduler.capacityChanged()
    })
    if (unsubscribe !== undefined) this.#push('executor status', unsubscribe)
    const link = new LocalExecutorLink({
      peer: this.#peerId,
      owner: this.#owner,
      runner: executor,
      capacity: () => {
        const status = executor.status()
        return status.available ? status.capacity : null
      },
      // Until dialCoordinator routes them through the executor client.
      report: (report) => void scheduler.report(report),
    })
    if (ledger.localRead().executors.get(this.#peerId)?.owner !== this.#owner) {
      await this.#propose(ledger, {
        type: 'executor.register',
        peer: this.#peerId,
        owner: this.#owner,
      })
    }
    scheduler.addExecutor(link, link.runningJobs())
    this.#localLink = link
    // A peer that left has had its jobs requeued elsewhere: it kills what still runs at once.
    this.#push('drain', () =>
      link.drain(this.#leaving ? 0 : (this.#init.drainMs ?? SHUTDOWN_DRAIN_MS)),
    )
    return executor
  }

  /** Without an executor the state may still show jobs this peer ran before: hand them back. */
  #noExecutorLink(): LocalExecutorLink {
    return new LocalExecutorLink({
      peer: this.#peerId,
      owner: this.#owner,
      runner: { run: () => Promise.reject(new Error('no executor')) },
      capacity: () => null,
      report: () => undefined,
    })
  }

  async #startGateway(
    api: ApiService,
    subscriptions: Subscriptions,
    registry: Registry,
    blobs: DaemonBlobs,
  ) {
    const gateway: Gateway = createGateway({
      host: this.#init.apiHost,
      port: this.#init.apiPort,
      token: this.#token,
      account: this.#owner,
      logger: this.#init.logger,
      metrics: registry,
      staticDir: this.#init.staticDir,
      blobs: blobs.backend,
      ...(this.#init.allowOrigins === undefined ? {} : { allowOrigins: this.#init.allowOrigins }),
      ...(this.#init.tokenRatePerS === undefined
        ? {}
        : {
            limits: {
              tokenPerS: this.#init.tokenRatePerS,
              tokenBurst: 2 * this.#init.tokenRatePerS,
            },
          }),
      backend: {
        call: (method, params, context) =>
          (api.handlers[method] as (p: unknown, c: unknown) => Promise<never>)(params, context),
        subscribe: (topic, params, context, push) =>
          subscriptions.subscribe(topic, params, context, push),
      },
      health: () => ({
        peerId: this.#peerId,
        appliedIndex: this.#ledger?.localRead().appliedIndex ?? 0,
      }),
    })
    this.#address = await gateway.start()
    this.#push('gateway', () => gateway.stop())
  }

  async #propose(ledger: RaftDriver, command: Parameters<RaftDriver['propose']>[0]): Promise<void> {
    const result = await ledger.propose(command)
    if (!result.ok) throw new Error(`${command.type} refused: ${result.error.message}`)
  }
}
