// `${BLOBS_PATH}/<cid>`: blobs over plain HTTP, streamed both ways, behind the API token, the
// origin check and the rate limits like the RPC. PUT stores a job's input (the body must hash
// to the CID and carry a Content-Length within JOB_INPUT_FILE_BYTES_MAX); HEAD says whether
// this peer holds a blob, so a client asks before it uploads and sends nothing twice; GET
// streams a blob, fetched first from another peer when this one lacks it (`?from=` names the
// peer to ask first, the executor of the job whose output it is).
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { Logger } from 'pino'
import { BLOBS_PATH, JOB_INPUT_FILE_BYTES_MAX, sha256OfCid } from '../../protocol/index.ts'
import type { Admission } from './admission.ts'
import type { GatewayLimits } from './constants.ts'
import type { OriginPolicy } from './origin-policy.ts'
import { cutExchange, idleBounded, UploadIdleError } from './request-deadline.ts'
import { bearerToken } from './token-guard.ts'
import type { TokenGuard } from './token-guard.ts'

/** What the gateway needs of the daemon's blob store. Errors of `write` and `open` are told
 * apart by `name`: BlobHashMismatchError and BlobSizeError (the client's bytes are wrong),
 * BlobStoreFullError (no room here), BlobNotFoundError (no peer has it); any other is a
 * failure of this peer. */
export interface BlobBackend {
  /** The size of a blob this peer holds (and its grace restarted), or null. */
  has(cid: string): Promise<number | null>
  write(cid: string, size: number, source: AsyncIterable<Uint8Array>): Promise<unknown>
  open(cid: string, from: string | null, signal: AbortSignal): Promise<BlobReader>
}

export interface BlobReader {
  readonly size: number
  readonly stream: Readable
}

export interface BlobRoutesInit {
  readonly blobs: BlobBackend
  readonly guard: TokenGuard
  readonly admission: Admission
  readonly origins: OriginPolicy
  readonly logger: Logger
  /** `uploadIdleTimeoutMs` bounds an upload's silences; its total time is unbounded. */
  readonly limits: GatewayLimits
}

const STATUS_BY_ERROR: Readonly<Record<string, number>> = {
  BlobHashMismatchError: 400,
  BlobSizeError: 400,
  BlobStoreFullError: 507,
  BlobNotFoundError: 404,
}

/** Answers one request under BLOBS_PATH; the caller matched the prefix. */
export async function blobRoute(
  init: BlobRoutesInit,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const method = request.method ?? 'GET'
  if (!['GET', 'HEAD', 'PUT'].includes(method)) {
    response.setHeader('allow', 'GET, HEAD, PUT')
    return refuse(response, 405, 'use GET, HEAD or PUT')
  }
  if (!init.origins.acceptsOrigin(request.headers.origin)) {
    return refuse(response, 403, 'cross-origin requests are not accepted')
  }
  const remote = request.socket.remoteAddress ?? 'unknown'
  const early = init.admission.admit(remote, init.guard.accepts(bearerToken(request)))
  if (early !== undefined) {
    const status = early.name === 'UNAUTHORIZED' ? 401 : 429
    if (status === 401) response.setHeader('www-authenticate', 'Bearer')
    return refuse(response, status, early.message)
  }
  const cid = url.pathname.slice(BLOBS_PATH.length + 1)
  if (sha256OfCid(cid) === null) return refuse(response, 400, `${cid} is not a blob CID`)
  try {
    if (method === 'PUT') return await put(init, request, response, cid)
    if (method === 'HEAD') {
      const size = await init.blobs.has(cid)
      response.writeHead(size === null ? 404 : 200, {
        'cache-control': 'no-store',
        ...(size === null ? {} : { 'x-blob-size': String(size) }),
      })
      return void response.end()
    }
    return await get(init, request, response, cid, url.searchParams.get('from'))
  } catch (error) {
    // The cut answered the client, and the write kept nothing.
    if (error instanceof UploadIdleError) return
    const status = STATUS_BY_ERROR[(error as Error).name]
    if (status === undefined || response.headersSent) throw error
    return refuse(response, status, (error as Error).message)
  }
}

async function put(
  init: BlobRoutesInit,
  request: IncomingMessage,
  response: ServerResponse,
  cid: string,
): Promise<void> {
  const declared = request.headers['content-length']
  if (declared === undefined || !/^\d+$/.test(declared)) {
    return refuse(response, 411, 'an upload needs a Content-Length')
  }
  const size = Number(declared)
  if (size > JOB_INPUT_FILE_BYTES_MAX) {
    return refuse(
      response,
      413,
      `a job's input file may be ${JOB_INPUT_FILE_BYTES_MAX} bytes; this one is ${size}`,
    )
  }
  const idleMs = init.limits.uploadIdleTimeoutMs
  // A cut upload fails the write, which keeps nothing of it.
  const source = idleBounded(
    request,
    idleMs,
    () => cutExchange(request, response, `no bytes of the upload arrived for ${idleMs} ms`),
    (error) => init.logger.debug({ err: error, cid }, 'a cut upload ended'),
  )
  const held = await init.blobs.has(cid)
  if (held === null) await init.blobs.write(cid, size, source)
  // A body the store did not need (it holds the blob, maybe from an upload of the same file
  // that just ended) is read to its end under the same idle bound: the client gets its answer
  // and the connection its next request, and a trickle of it is still cut.
  await drain(source)
  if (held !== null) return sendJson(response, 200, { cid, size: held, stored: false })
  sendJson(response, 201, { cid, size, stored: true })
}

async function get(
  init: BlobRoutesInit,
  request: IncomingMessage,
  response: ServerResponse,
  cid: string,
  from: string | null,
): Promise<void> {
  const abort = new AbortController()
  const onClose = () => abort.abort(new Error('the client went away'))
  request.socket.once('close', onClose)
  try {
    const reader = await init.blobs.open(cid, from, abort.signal)
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(reader.size),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    })
    for await (const chunk of reader.stream) {
      if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve))
    }
    response.end()
  } finally {
    request.socket.off('close', onClose)
  }
}

async function drain(source: AsyncIterable<Uint8Array>): Promise<void> {
  const iterator = source[Symbol.asyncIterator]()
  while ((await iterator.next()).done !== true) continue
}

function refuse(response: ServerResponse, status: number, message: string): void {
  // An unread body cannot be followed by another request on this connection.
  response.setHeader('connection', 'close')
  sendJson(response, status, { error: message })
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  response.end(text)
}
