// `/gridx/blob/2.0.0`, a libp2p service in the js-libp2p shape (`blobService(init)(components)`,
// start/stop): it serves this peer's blobs to admitted peers, and fetches a blob this peer lacks
// from whichever admitted peer has it, in chunks each checked against its hash and the whole
// checked against its CID. A peer that sends a bad chunk, a blob that fails its CID, or nothing
// in time is left for the next; only bytes that passed are ever stored.
import type { PeerId, Startable, Stream, StreamHandler } from '@libp2p/interface'
import type { AbortOptions, Connection, PeerStore, StreamHandlerOptions } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import {
  BLOB_CHUNK_TIMEOUT_MS,
  BLOB_FETCH_PEERS_MAX,
  BLOB_FRAME_BYTES_MAX,
  BLOB_PROTOCOL,
  BLOB_STREAM_BUFFER_BYTES_MAX,
  BLOB_STREAM_OPEN_TIMEOUT_MS,
  BLOB_STREAMS_PER_CONNECTION_MAX,
} from '../../protocol/index.ts'
import type { BlobStore, StoredBlob } from './blob-store.ts'
import { blobHeaderSchema, blobRequestSchema, decodeJson, encodeJson } from './blob-frames.ts'
import { ChunkReceiver } from './blob-fetch.ts'
import { BlobNotFoundError, BlobProtocolError } from './errors.ts'
import { serveBlob } from './blob-serve.ts'
import { IdleTimeout } from './idle-timeout.ts'

export interface BlobServiceComponents {
  readonly registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
  }
  readonly connectionManager: {
    openStream(peer: PeerId, protocol: string, options?: AbortOptions): Promise<Stream>
  }
  readonly peerStore: Pick<PeerStore, 'merge'>
}

export interface BlobServiceInit {
  readonly store: BlobStore
  /** Whether a peer is admitted: only admitted peers are served, and asked. */
  readonly isAdmitted: (peerId: string) => boolean
  /** Peers that may hold a blob, from the replicated state, besides those a caller prefers. */
  readonly peers: () => readonly string[]
  /** Where a peer listens, from the replicated state (empty: what libp2p already knows). */
  readonly addressesOf?: (peerId: string) => readonly string[]
  readonly logger: Logger
  /** Test-only: damages chunk `index` of what this peer serves after hashing it, as a faulty
   * link or peer would. Never set by the daemon. */
  readonly damageChunk?: (index: number) => boolean
}

export interface FetchOptions {
  /** Peers to ask first, in order (the executor of a job for its outputs). */
  readonly preferred?: readonly string[]
  /** The size the blob must have, when the caller knows it (a job's record does). */
  readonly size?: number
  readonly signal?: AbortSignal
}

/** What one attempt at one peer came to, for the caller's log and the tests. */
export interface FetchAttempt {
  readonly peer: string
  readonly error: string | null
}

export class BlobService implements Startable {
  readonly [Symbol.toStringTag] = '@gridx/blob'
  readonly #components: BlobServiceComponents
  readonly #init: BlobServiceInit
  readonly #self: string
  #abort = new AbortController()
  /** Every attempt of every fetch, newest last, bounded. */
  readonly attempts: FetchAttempt[] = []

  constructor(components: BlobServiceComponents, init: BlobServiceInit, self: string) {
    this.#components = components
    this.#init = init
    this.#self = self
  }

  async start(): Promise<void> {
    this.#abort = new AbortController()
    await this.#components.registrar.handle(
      BLOB_PROTOCOL,
      (stream, connection) => void this.#serve(stream, connection),
      {
        maxInboundStreams: BLOB_STREAMS_PER_CONNECTION_MAX,
        maxOutboundStreams: BLOB_STREAMS_PER_CONNECTION_MAX,
      },
    )
  }

  async stop(): Promise<void> {
    this.#abort.abort(new Error('the blob service stopped'))
    await this.#components.registrar.unhandle(BLOB_PROTOCOL)
  }

  /**
   * The blob `cid` in this peer's store, fetched from another peer first if needed: the
   * preferred peers in order, then the others, BLOB_FETCH_PEERS_MAX in all. Rejects with
   * BlobNotFoundError (naming what each peer answered) when none gave it whole, and with the
   * store's errors (BlobStoreFullError) when there is no room for it.
   */
  async fetch(cid: string, options: FetchOptions = {}): Promise<StoredBlob> {
    const { store } = this.#init
    const held = store.size(cid)
    if (held !== null) return { cid, size: held }
    const candidates = [...new Set([...(options.preferred ?? []), ...this.#init.peers()])]
      .filter((peer) => peer !== this.#self && this.#init.isAdmitted(peer))
      .slice(0, BLOB_FETCH_PEERS_MAX)
    const failures: string[] = []
    for (const peer of candidates) {
      options.signal?.throwIfAborted()
      try {
        const stored = await this.#fetchFrom(peer, cid, options)
        this.#record({ peer, error: null })
        return stored
      } catch (error) {
        if (error instanceof Error && error.name === 'BlobStoreFullError') throw error
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        this.#record({ peer, error: message })
        failures.push(`${peer}: ${message}`)
        this.#init.logger.warn({ peer, cid, err: error }, 'a blob fetch from a peer failed')
      }
    }
    const asked = failures.length === 0 ? 'no other peer to ask' : failures.join('; ')
    throw new BlobNotFoundError(`no peer gave blob ${cid} whole (${asked})`)
  }

  async #fetchFrom(peer: string, cid: string, options: FetchOptions): Promise<StoredBlob> {
    const signals = [this.#abort.signal, ...(options.signal === undefined ? [] : [options.signal])]
    const open = AbortSignal.any([...signals, AbortSignal.timeout(BLOB_STREAM_OPEN_TIMEOUT_MS)])
    const peerId = peerIdFromString(peer)
    const addresses = this.#init.addressesOf?.(peer) ?? []
    if (addresses.length > 0) {
      await this.#components.peerStore.merge(peerId, {
        multiaddrs: addresses.map((address) => multiaddr(address)),
      })
    }
    const stream = await this.#components.connectionManager.openStream(peerId, BLOB_PROTOCOL, {
      signal: open,
    })
    const lp = framed(stream)
    try {
      await lp.write(encodeJson({ cid }), { signal: open })
      const header = decodeJson((await lp.read({ signal: open })).subarray(), blobHeaderSchema)
      if ('missing' in header) throw new BlobNotFoundError(`${peer} does not hold ${cid}`)
      if (options.size !== undefined && header.size !== options.size) {
        throw new BlobProtocolError(
          `${peer} holds ${header.size} bytes, the job says ${options.size}`,
        )
      }
      const idle = new IdleTimeout(BLOB_CHUNK_TIMEOUT_MS, signals)
      const receiver = new ChunkReceiver(lp, header.size, idle)
      const stored = await this.#init.store
        .write(cid, header.size, receiver.pieces(), {
          onHashed: (bytes, sha256) => receiver.check(bytes, sha256),
        })
        .finally(() => idle.clear())
      await stream.close({ signal: AbortSignal.timeout(BLOB_STREAM_OPEN_TIMEOUT_MS) })
      return stored
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)))
      throw error
    }
  }

  #record(attempt: FetchAttempt): void {
    this.attempts.push(attempt)
    if (this.attempts.length > BLOB_FETCH_PEERS_MAX * 4) this.attempts.shift()
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const lp = framed(stream)
    const { logger, store } = this.#init
    try {
      if (!this.#init.isAdmitted(peer)) throw new BlobProtocolError(`${peer} is not admitted`)
      const signal = AbortSignal.any([
        this.#abort.signal,
        AbortSignal.timeout(BLOB_STREAM_OPEN_TIMEOUT_MS),
      ])
      const { cid } = decodeJson((await lp.read({ signal })).subarray(), blobRequestSchema)
      await serveBlob({
        lp,
        store,
        cid,
        signal: this.#abort.signal,
        logger,
        peer,
        ...this.#damage(),
      })
      await stream.close({ signal: AbortSignal.timeout(BLOB_CHUNK_TIMEOUT_MS) })
    } catch (error) {
      logger.debug({ peer, err: error }, 'a blob stream ended early')
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  #damage(): { damageChunk?: (index: number) => boolean } {
    return this.#init.damageChunk === undefined ? {} : { damageChunk: this.#init.damageChunk }
  }
}

export function framed(stream: Stream): LengthPrefixedStream<Stream> {
  stream.maxReadBufferLength = BLOB_STREAM_BUFFER_BYTES_MAX
  return lpStream(stream, {
    maxDataLength: BLOB_FRAME_BYTES_MAX,
    maxBufferSize: BLOB_STREAM_BUFFER_BYTES_MAX,
  })
}

/** The service factory: `services: { blob: blobService({ store, isAdmitted, peers, logger }) }`.
 * `onCreated` receives the instance libp2p builds, which the caller keeps to fetch with. */
export function blobService(
  init: BlobServiceInit,
  onCreated?: (service: BlobService) => void,
): (components: BlobServiceComponents & { readonly peerId: PeerId }) => BlobService {
  return (components) => {
    const service = new BlobService(components, init, components.peerId.toString())
    onCreated?.(service)
    return service
  }
}
