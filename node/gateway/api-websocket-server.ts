// The API's WebSocket endpoint: checks each upgrade (path, address limit, token, connection
// bound) before the handshake, then hands the socket to an ApiConnection. A refused upgrade
// gets a bare HTTP status and no hint of why the token was wrong.
import type { IncomingMessage } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { WS_PATH } from '../../protocol/index.ts'
import type { Admission } from './admission.ts'
import type { ApiBackend, CallContext } from './api-backend.ts'
import { ApiConnection } from './api-connection.ts'
import { WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from './constants.ts'
import type { GatewayLimits } from './constants.ts'
import type { GatewayMetrics } from './gateway-metrics.ts'
import type { OriginPolicy } from './origin-policy.ts'
import type { RpcDispatcher } from './rpc-dispatcher.ts'
import { upgradeToken } from './token-guard.ts'
import type { TokenGuard } from './token-guard.ts'

export interface ApiWebSocketServerInit {
  readonly account: string
  readonly limits: GatewayLimits
  readonly logger: Logger
  readonly metrics: GatewayMetrics
  readonly guard: TokenGuard
  readonly admission: Admission
  readonly dispatcher: RpcDispatcher
  readonly backend: ApiBackend
  readonly origins: OriginPolicy
}

/** Selects the plain subprotocol, never the one carrying the token: the secret must not come
 * back in `Sec-WebSocket-Protocol`, where proxies and browser tools log it. */
function selectProtocol(offered: Set<string>): string | false {
  return offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false
}

/** Whether the client offered the token subprotocol without the plain one. A browser fails a
 * handshake that selects none of the subprotocols it offered, so such an upgrade is refused
 * (400) up front, with a status that says so, instead of a handshake bound to fail. */
function offersTokenAlone(request: IncomingMessage): boolean {
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
  const token = offered.some((protocol) => protocol.startsWith(WS_TOKEN_SUBPROTOCOL_PREFIX))
  return token && !offered.includes(WS_SUBPROTOCOL)
}

export class ApiWebSocketServer {
  readonly #init: ApiWebSocketServerInit
  readonly #server: WebSocketServer
  readonly #connections = new Map<WebSocket, ApiConnection>()
  #pingTimer: ReturnType<typeof setInterval> | undefined
  /** Upgrades past the checks whose handshake is not done yet; they count toward the bound. */
  #upgrading = 0

  constructor(init: ApiWebSocketServerInit) {
    this.#init = init
    this.#server = new WebSocketServer({
      noServer: true,
      maxPayload: init.limits.messageBytesMax,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: selectProtocol,
    })
  }

  start(): void {
    this.#pingTimer = setInterval(() => this.#ping(), this.#init.limits.pingIntervalMs)
    this.#pingTimer.unref()
  }

  /** Handles an HTTP upgrade request for any path; only WS_PATH with a good token passes. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const remoteAddress = request.socket.remoteAddress ?? 'unknown'
    // The HTTP server drops its own error handler from a socket it hands over for an upgrade:
    // without this one, a client that resets the connection would crash the daemon.
    const onError = (error: Error) => {
      this.#init.logger.debug({ err: error, remoteAddress }, 'upgrade socket error')
    }
    socket.on('error', onError)
    const url = new URL(request.url ?? '/', 'http://gateway.invalid')
    const status = this.#refusal(request, url, remoteAddress)
    if (status !== undefined) {
      // Destroyed once the answer is written: a half-open socket left to the client would
      // let it hold file descriptors for as long as it likes.
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
          'Content-Length: 0\r\n\r\n',
        () => socket.destroy(),
      )
      return
    }
    this.#upgrading += 1
    let counted = true
    const release = () => {
      if (counted) this.#upgrading -= 1
      counted = false
    }
    // A handshake that fails closes the socket without calling back: release on close too.
    socket.once('close', release)
    this.#server.handleUpgrade(request, socket, head, (ws) => {
      release()
      // From here the WebSocket handles the socket's errors and reports them on `ws`.
      socket.off('error', onError)
      this.#accept(ws, remoteAddress)
    })
  }

  #refusal(request: IncomingMessage, url: URL, remoteAddress: string): number | undefined {
    const { origins } = this.#init
    if (!origins.acceptsHost(request.headers.host)) return 403
    if (url.pathname !== WS_PATH) return 404
    if (!origins.acceptsOrigin(request.headers.origin)) return 403
    if (offersTokenAlone(request)) return 400
    const authenticated = this.#init.guard.accepts(upgradeToken(request, url))
    const refused = this.#init.admission.admit(remoteAddress, authenticated)
    if (refused !== undefined) return refused.name === 'RATE_LIMITED' ? 429 : 401
    const open = this.#connections.size + this.#upgrading
    if (open >= this.#init.limits.connectionsMax) return 503
    return undefined
  }

  #accept(socket: WebSocket, remoteAddress: string): void {
    const { admission, metrics, logger } = this.#init
    const context: CallContext = { account: this.#init.account, remoteAddress, transport: 'ws' }
    const connection = new ApiConnection({
      ...this.#init,
      socket,
      context,
      admit: () => admission.token(),
    })
    this.#connections.set(socket, connection)
    metrics.connectionOpened()
    socket.on('message', (data) => {
      // Frames arrive as one Buffer (binaryType nodebuffer). ws has checked a text frame's
      // UTF-8 (1007 otherwise); a binary one is decoded, strictly, as a request too.
      connection.receive(data as Buffer).catch((error: unknown) => {
        logger.error({ err: error, remoteAddress }, 'WebSocket message failed')
        socket.terminate()
      })
    })
    socket.on('close', () => {
      this.#connections.delete(socket)
      metrics.connectionClosed()
      connection.closed()
    })
    socket.on('error', (error) => {
      logger.debug({ err: error, remoteAddress }, 'WebSocket error')
    })
  }

  #ping(): void {
    for (const [socket, connection] of this.#connections) {
      if (!connection.alive) {
        socket.terminate()
        continue
      }
      connection.alive = false
      socket.ping()
    }
  }

  get connectionCount(): number {
    return this.#connections.size
  }

  /** Closes every connection politely, then cuts those still open after the grace period. */
  async stop(): Promise<void> {
    clearInterval(this.#pingTimer)
    const sockets = [...this.#connections.keys()]
    const closed = sockets.map((socket) => {
      return new Promise<void>((resolve) => {
        if (socket.readyState === socket.CLOSED) return resolve()
        socket.once('close', () => resolve())
        socket.close(1001, 'server stopping')
      })
    })
    const grace = new Promise<void>((resolve) => {
      setTimeout(resolve, this.#init.limits.stopGraceMs).unref()
    })
    await Promise.race([Promise.all(closed), grace])
    for (const socket of this.#connections.keys()) socket.terminate()
    await Promise.all(closed)
    this.#server.close()
  }
}
