// The member side of /gridx/join/1.0.0: one request frame from a joiner, one reply. Whether
// the secret is good and the peer is admitted is the injected `admit`'s to say (the daemon
// makes it a committed `peer.admit` entry, checked against the replicated token hashes); this
// module bounds the exchange and speaks the wire format.
import type { Connection, Startable, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { Logger } from 'pino'
import {
  ERROR_ECHO_CHARS_MAX,
  joinRequestSchema,
  joinResponseSchema,
} from '../../protocol/index.ts'
import type { JoinRefusal, JoinResponse, JoinRole, MeshMember } from '../../protocol/index.ts'
import * as constants from './constants.ts'
import type { RaftTransportComponents } from './raft-transport.ts'

export interface AdmitRequest {
  /** The joiner's PeerId, as proven by the Noise handshake (never taken from the request). */
  readonly peerId: string
  readonly owner: string
  readonly role: JoinRole
  readonly secret: string
  /** A same-owner token: the owner is the one its secret names, not `owner`. */
  readonly sameOwner?: true
}

export type AdmitResult =
  | { readonly accepted: true; readonly members: readonly MeshMember[] }
  | { readonly accepted: false; readonly code: JoinRefusal; readonly message: string }

export interface JoinServiceInit {
  /** The id of the mesh this member belongs to; a request for another is refused. */
  readonly meshId: () => string
  /** Decides and records the admission; resolves once it is durable in the mesh. Past
   * `signal` (the join's deadline) the joiner is told UNAVAILABLE whatever it resolves to. */
  readonly admit: (
    request: AdmitRequest,
    options: { readonly signal: AbortSignal },
  ) => Promise<AdmitResult>
  readonly logger: Logger
  readonly timeoutMs?: number
}

export type JoinServiceComponents = Pick<RaftTransportComponents, 'registrar'>

const decoder = new TextDecoder('utf-8', { fatal: true })
/** lpStream's errors for a frame whose length prefix is over the limit (or unreadable): a
 * refusal of what the joiner sent, not a broken link. */
const OVERSIZE = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError'])
const encoder = new TextEncoder()

export class JoinService implements Startable {
  readonly [Symbol.toStringTag] = '@gridx/join'
  readonly #components: JoinServiceComponents
  readonly #init: JoinServiceInit

  constructor(components: JoinServiceComponents, init: JoinServiceInit) {
    this.#components = components
    this.#init = init
  }

  async start(): Promise<void> {
    await this.#components.registrar.handle(
      constants.JOIN_PROTOCOL,
      (stream, connection) => void this.#serve(stream, connection),
      {
        maxInboundStreams: constants.JOIN_STREAMS_PER_CONNECTION_MAX,
        maxOutboundStreams: constants.JOIN_STREAMS_PER_CONNECTION_MAX,
      },
    )
  }

  async stop(): Promise<void> {
    await this.#components.registrar.unhandle(constants.JOIN_PROTOCOL)
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const peerId = connection.remotePeer.toString()
    const timeoutMs = this.#init.timeoutMs ?? constants.JOIN_TIMEOUT_MS
    const lp = lpStream(stream, { maxDataLength: constants.JOIN_FRAME_BYTES_MAX })
    try {
      // One deadline for reading the request and deciding; the reply gets its own, so that a
      // decision that ran out of time is still answered.
      const deadline = AbortSignal.timeout(timeoutMs)
      const frame = (await lp.read({ signal: deadline })).subarray()
      const response = await this.#answer(peerId, frame, deadline)
      const { logger } = this.#init
      if (response.accepted) logger.info({ peer: peerId }, 'admitted a peer to the mesh')
      else logger.warn({ peer: peerId, code: response.code }, `refused a join: ${response.message}`)
      const signal = AbortSignal.timeout(timeoutMs)
      await lp.write(encoder.encode(JSON.stringify(joinResponseSchema.parse(response))), { signal })
      await stream.close({ signal })
    } catch (error) {
      const { logger } = this.#init
      if (OVERSIZE.has((error as Error).name)) {
        const bytesMax = constants.JOIN_FRAME_BYTES_MAX
        logger.warn(
          { peer: peerId, err: error },
          `refused a join: the request is over ${bytesMax} bytes`,
        )
      } else {
        logger.warn({ peer: peerId, err: error }, 'join stream failed')
      }
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /** Runs `admit` within the deadline; a failure or a timeout is UNAVAILABLE (retryable). */
  async #admit(request: AdmitRequest, deadline: AbortSignal): Promise<AdmitResult> {
    const timedOut = Promise.withResolvers<AdmitResult>()
    const onAbort = () =>
      timedOut.resolve(refuse('UNAVAILABLE', 'the mesh did not record the admission in time'))
    deadline.addEventListener('abort', onAbort, { once: true })
    try {
      return await Promise.race([this.#init.admit(request, { signal: deadline }), timedOut.promise])
    } catch (error) {
      this.#init.logger.warn({ peer: request.peerId, err: error }, 'admission failed')
      return refuse('UNAVAILABLE', `the mesh could not record the admission: ${String(error)}`)
    } finally {
      deadline.removeEventListener('abort', onAbort)
    }
  }

  async #answer(peerId: string, frame: Uint8Array, deadline: AbortSignal): Promise<JoinResponse> {
    let body: unknown
    try {
      body = JSON.parse(decoder.decode(frame))
    } catch {
      return refuse('BAD_REQUEST', 'the join request is not JSON')
    }
    const parsed = joinRequestSchema.safeParse(body)
    if (!parsed.success) return refuse('BAD_REQUEST', 'the join request is malformed')
    const request = parsed.data
    const meshId = this.#init.meshId()
    if (request.meshId !== meshId) {
      return refuse('OTHER_MESH', `the token is for mesh ${request.meshId}, this is ${meshId}`)
    }
    const { owner, role, secret } = request
    const admit = { peerId, owner, role, secret }
    const result = await this.#admit(
      request.sameOwner === true ? { ...admit, sameOwner: true } : admit,
      deadline,
    )
    if (!result.accepted) return refuse(result.code, result.message)
    return { accepted: true, meshId, members: [...result.members] }
  }
}

function refuse(code: JoinRefusal, message: string): JoinResponse & { accepted: false } {
  // The schema bounds a reply's message at four bytes per echoed character; an admission's
  // error text may be longer.
  return { accepted: false, code, message: message.slice(0, ERROR_ECHO_CHARS_MAX) }
}

/** The service factory: `services: { join: joinService({ meshId, admit, logger }) }`. */
export function joinService(
  init: JoinServiceInit,
): (components: JoinServiceComponents) => JoinService {
  return (components) => new JoinService(components, init)
}
