// Routes of the one HTTP port: health, metrics, the JSON-RPC endpoint and the web app.
// /healthz and /metrics need no token: they reveal no account data, and Prometheus scrapers
// and load balancers carry none. Every API route needs the token.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { API_PATH, BLOBS_PATH, ERROR_CODES, GridxError, WS_PATH } from '../../protocol/index.ts'
import type { Admission } from './admission.ts'
import { blobRoute } from './blob-routes.ts'
import type { BlobBackend } from './blob-routes.ts'
import type { GatewayLimits } from './constants.ts'
import type { OriginPolicy } from './origin-policy.ts'
import { readBody } from './read-body.ts'
import { boundRequestTime } from './request-deadline.ts'
import type { RpcDispatcher, RpcReply, RpcResponse } from './rpc-dispatcher.ts'
import type { StaticFiles } from './static-files.ts'
import { bearerToken } from './token-guard.ts'
import type { TokenGuard } from './token-guard.ts'

export type HealthReport = Readonly<Record<string, unknown>>

export interface HttpRoutesInit {
  readonly account: string
  readonly limits: GatewayLimits
  readonly logger: Logger
  readonly registry: Registry
  readonly health: () => HealthReport | Promise<HealthReport>
  readonly staticFiles: StaticFiles | undefined
  readonly guard: TokenGuard
  readonly admission: Admission
  readonly dispatcher: RpcDispatcher
  readonly origins: OriginPolicy
  /** The blob store behind BLOBS_PATH; without it that path answers 404. */
  readonly blobs?: BlobBackend
}

/** HTTP status of an exchange refused before its body was read: the token, the rate limit,
 * the size. HTTP tools and proxies act on these; the body still carries the JSON-RPC error. */
const REFUSAL_STATUS_BY_CODE = new Map<number, number>([
  [ERROR_CODES.UNAUTHORIZED, 401],
  [ERROR_CODES.TOO_LARGE, 413],
  [ERROR_CODES.RATE_LIMITED, 429],
])

/** Longest path written to the log: enough to tell routes apart, not a place to store data. */
const LOGGED_PATH_CHARS_MAX = 256

/** The path of a request for the log. Never the query: a `?token=` must not reach a log. */
function loggedPath(request: IncomingMessage): string {
  const url = request.url ?? '/'
  const query = url.indexOf('?')
  return (query === -1 ? url : url.slice(0, query)).slice(0, LOGGED_PATH_CHARS_MAX)
}

export function createHttpHandler(init: HttpRoutesInit) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    // An upload is bounded by its idleness instead (blob-routes.ts).
    if (!isBlobUpload(init, request)) {
      boundRequestTime(request, response, init.limits.requestTimeoutMs)
    }
    route(init, request, response).catch((error: unknown) => {
      const path = loggedPath(request)
      // A client that went away mid-request is the client's business, not a daemon error:
      // whatever failed failed because the socket is gone, and nobody is left to answer.
      if (request.socket.destroyed) {
        const code = (error as { code?: unknown }).code
        init.logger.debug({ path, code }, 'client aborted the request')
        response.destroy()
        return
      }
      init.logger.error({ err: error, method: request.method, path }, 'HTTP request failed')
      if (response.headersSent) response.destroy()
      else sendJson(response, 500, { status: 'error' })
    })
  }
}

function isBlobUpload(init: HttpRoutesInit, request: IncomingMessage): boolean {
  // The path as route() reads it: `${BLOBS_PATH}/../x` is not an upload.
  const path = new URL(request.url ?? '/', 'http://gateway.invalid').pathname
  return init.blobs !== undefined && request.method === 'PUT' && path.startsWith(`${BLOBS_PATH}/`)
}

async function route(init: HttpRoutesInit, request: IncomingMessage, response: ServerResponse) {
  const host = request.headers.host
  // On every answer, also errors: any of them may be the page a browser shows.
  response.setHeader('content-security-policy', init.origins.contentSecurityPolicy(host))
  response.setHeader('x-frame-options', 'DENY')
  response.setHeader('referrer-policy', 'no-referrer')
  if (!init.origins.acceptsHost(host)) return sendJson(response, 403, { error: 'unknown host' })
  const url = new URL(request.url ?? '/', 'http://gateway.invalid')
  const path = url.pathname
  const method = request.method ?? 'GET'
  const readOnly = method === 'GET' || method === 'HEAD'
  if (path === '/healthz' && readOnly) return health(init, response)
  if (path === '/metrics' && readOnly) {
    const text = await init.registry.metrics()
    response.writeHead(200, {
      'content-type': init.registry.contentType,
      'cache-control': 'no-store',
    })
    return void response.end(text)
  }
  if (path === API_PATH) {
    if (method === 'POST') return rpc(init, request, response)
    response.setHeader('allow', 'POST')
    return sendJson(response, 405, { error: 'method not allowed' })
  }
  if (path.startsWith(`${BLOBS_PATH}/`) && init.blobs !== undefined) {
    return blobRoute({ ...init, blobs: init.blobs }, request, response, url)
  }
  if (path === WS_PATH) return sendJson(response, 426, { error: 'upgrade to a WebSocket' })
  if (readOnly && init.staticFiles !== undefined) {
    return init.staticFiles.serve(request, response, path)
  }
  return sendJson(response, readOnly ? 404 : 405, {
    error: readOnly ? 'not found' : 'method not allowed',
  })
}

async function health(init: HttpRoutesInit, response: ServerResponse) {
  try {
    sendJson(response, 200, { ...(await init.health()), status: 'ok' })
  } catch (error) {
    init.logger.warn({ err: error }, 'health check failed')
    sendJson(response, 503, { status: 'error' })
  }
}

async function rpc(init: HttpRoutesInit, request: IncomingMessage, response: ServerResponse) {
  if (!init.origins.acceptsOrigin(request.headers.origin)) {
    // The body is left unread, so this connection cannot carry another request.
    response.setHeader('connection', 'close')
    return sendJson(response, 403, { error: 'cross-origin requests are not accepted' })
  }
  const remoteAddress = request.socket.remoteAddress ?? 'unknown'
  const early = admit(init, request, remoteAddress)
  if (early !== undefined) {
    // The body is left unread, so this connection cannot carry another request.
    response.setHeader('connection', 'close')
    return sendRefusal(response, init.dispatcher.refuse(null, early, 'unknown'))
  }
  let body: Buffer
  try {
    body = await readBody(request, init.limits.messageBytesMax)
  } catch (error) {
    if (!(error instanceof GridxError)) throw error
    response.setHeader('connection', 'close')
    return sendRefusal(response, init.dispatcher.refuse(null, error, 'unknown'))
  }
  const context = { account: init.account, remoteAddress, transport: 'http' } as const
  // The exchange spent one token at the door: the message's first request is paid for; each
  // further member of a batch spends one more.
  let paid = true
  const admitMember = () => {
    if (!paid) return init.admission.token()
    paid = false
    return undefined
  }
  const reply = await init.dispatcher.answer(body, context, undefined, admitMember)
  // Nothing to answer (notifications only): 204, as JSON-RPC over HTTP does it.
  if (reply === undefined) return sendNoContent(response)
  sendRpc(response, reply)
}

/** The token decides the bucket (see Admission); a refused token gets one fixed answer. */
function admit(init: HttpRoutesInit, request: IncomingMessage, remoteAddress: string) {
  return init.admission.admit(remoteAddress, init.guard.accepts(bearerToken(request)))
}

function sendRefusal(response: ServerResponse, message: RpcResponse) {
  const status = 'error' in message ? (REFUSAL_STATUS_BY_CODE.get(message.error.code) ?? 200) : 200
  if (status === 401) response.setHeader('www-authenticate', 'Bearer')
  sendJson(response, status, message)
}

/** The answer to a message that was read: 200 whatever its errors, so stock JSON-RPC clients
 * read the error objects; 400 for a body that is not JSON at all. */
function sendRpc(response: ServerResponse, message: RpcReply) {
  const parseError = 'error' in message && message.error.code === ERROR_CODES.PARSE_ERROR
  sendJson(response, parseError ? 400 : 200, message)
}

function sendNoContent(response: ServerResponse) {
  response.writeHead(204, { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
  response.end()
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  response.end(text)
}
