// The daemon's one HTTP port (DESIGN section 7): the web app, /healthz, /metrics and the
// JSON-RPC API over POST /api/v1/rpc and the WebSocket at /api/v1/ws.
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { Admission } from './admission.ts'
import type { ApiBackend } from './api-backend.ts'
import { ApiWebSocketServer } from './api-websocket-server.ts'
import type { BlobBackend } from './blob-routes.ts'
import { DEFAULT_GATEWAY_LIMITS } from './constants.ts'
import type { GatewayLimits } from './constants.ts'
import { GatewayMetrics } from './gateway-metrics.ts'
import { createHttpHandler } from './http-routes.ts'
import type { HealthReport } from './http-routes.ts'
import { OriginPolicy } from './origin-policy.ts'
import { RpcDispatcher } from './rpc-dispatcher.ts'
import { StaticFiles } from './static-files.ts'
import { TokenGuard } from './token-guard.ts'

export interface GatewayInit {
  /** Address to bind; the daemon's default is loopback. */
  readonly host: string
  /** Port to bind; 0 picks a free one (see the address start() resolves to). */
  readonly port: number
  /** The daemon's API token. */
  readonly token: string
  /** The daemon owner's account: every call is made on its behalf. */
  readonly account: string
  readonly backend: ApiBackend
  readonly logger: Logger
  /** The daemon's registry; the gateway registers its counters on it and serves it. */
  readonly metrics: Registry
  /** Extra fields for /healthz. A throw or rejection answers 503. */
  readonly health?: () => HealthReport | Promise<HealthReport>
  /** Built web app; without it, other GET paths answer 404. */
  readonly staticDir?: string
  /** Overrides of the bounds (tests shrink them). */
  readonly limits?: Partial<GatewayLimits>
  /** Monotonic milliseconds for the rate limits. */
  readonly now?: () => number
  /** Origins besides the daemon's own that may use the API (`--allow-origin`). */
  readonly allowOrigins?: readonly string[]
  /** The blob store for uploads and downloads of jobs' files (BLOBS_PATH). */
  readonly blobs?: BlobBackend
}

export interface GatewayAddress {
  readonly host: string
  readonly port: number
  /** `http://host:port`, the base for the API paths and the web app. */
  readonly url: string
}

export interface Gateway {
  /** Binds the port. Rejects if it is taken. */
  start(): Promise<GatewayAddress>
  /** Closes every connection (politely, then by force after the grace) and the server. */
  stop(): Promise<void>
}

class HttpGateway implements Gateway {
  readonly #init: GatewayInit
  readonly #server: Server
  readonly #sockets: ApiWebSocketServer
  readonly #origins: OriginPolicy
  #state: 'new' | 'started' | 'stopped' = 'new'

  constructor(init: GatewayInit) {
    const limits: GatewayLimits = { ...DEFAULT_GATEWAY_LIMITS, ...init.limits }
    const metrics = new GatewayMetrics(init.metrics)
    const admission = new Admission(limits, init.now ?? (() => performance.now()), metrics)
    const dispatcher = new RpcDispatcher({ backend: init.backend, logger: init.logger, metrics })
    const guard = new TokenGuard(init.token)
    const origins = new OriginPolicy({
      listenHost: init.host,
      ...(init.allowOrigins === undefined ? {} : { allowOrigins: init.allowOrigins }),
    })
    const shared = { account: init.account, limits, logger: init.logger, guard, admission, origins }
    this.#init = init
    this.#origins = origins
    this.#sockets = new ApiWebSocketServer({
      ...shared,
      metrics,
      dispatcher,
      backend: init.backend,
    })
    const handler = createHttpHandler({
      ...shared,
      dispatcher,
      registry: init.metrics,
      health: init.health ?? (() => ({})),
      staticFiles: init.staticDir === undefined ? undefined : new StaticFiles(init.staticDir),
      ...(init.blobs === undefined ? {} : { blobs: init.blobs }),
    })
    this.#server = createServer(
      {
        // Node's total timeout would cut a big upload on a slow link: bodies are bounded per
        // route instead (request-deadline.ts), and headers here, against slow-loris clients.
        requestTimeout: 0,
        headersTimeout: limits.requestTimeoutMs,
        // Node checks the headers timeout only this often (30 s by default, which let a slow
        // client hold a socket for twice the timeout): a quarter of it cuts at most 25 % late.
        connectionsCheckingInterval: Math.max(1, Math.floor(limits.requestTimeoutMs / 4)),
      },
      handler,
    )
    this.#server.maxConnections = limits.httpConnectionsMax
    this.#server.on('upgrade', (request, socket, head) => {
      this.#sockets.upgrade(request, socket, head)
    })
  }

  async start(): Promise<GatewayAddress> {
    // The WebSocket server cannot be reopened once closed: a gateway starts once.
    if (this.#state !== 'new') throw new Error(`gateway already ${this.#state}`)
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen({ host: this.#init.host, port: this.#init.port }, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    this.#state = 'started'
    const address = this.#server.address() as AddressInfo
    this.#origins.bind(address.port)
    this.#sockets.start()
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    this.#init.logger.info({ host, port: address.port }, 'API listening')
    return { host: address.address, port: address.port, url: `http://${host}:${address.port}` }
  }

  async stop(): Promise<void> {
    if (this.#state !== 'started') return
    this.#state = 'stopped'
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#server.closeIdleConnections()
    await this.#sockets.stop()
    // Requests still running after the WebSocket grace are cut: stop() is bounded.
    this.#server.closeAllConnections()
    await closed
  }
}

export function createGateway(init: GatewayInit): Gateway {
  return new HttpGateway(init)
}
