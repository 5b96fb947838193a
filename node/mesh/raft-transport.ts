// RaftTransport over libp2p (DESIGN section 3): protocol /gridx/raft/1.0.0, one long-lived
// outbound stream per peer, length-prefixed frames, snapshots in chunks acknowledged once the
// receiver persisted them. A libp2p service in js-libp2p's shape: `raftTransport(init)` returns
// the factory createLibp2p calls with its components.
import type { PeerId, Startable, Stream, StreamHandler } from '@libp2p/interface'
import type { AbortOptions, Connection, PeerStore, StreamHandlerOptions } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { RaftTransport, RaftTransportHandler, raft } from '../../ledger/index.ts'
import { encodeRaftMessage } from '../../ledger/index.ts'
import * as constants from './constants.ts'
import { serveRaftStream } from './raft-inbound.ts'
import { RaftPeerLink } from './raft-peer-link.ts'
import { NOT_ADMITTED, RefusalLog } from './refusal-log.ts'
import type { RaftLinkLimits, RaftPeerLinkStats } from './raft-peer-link.ts'

/** The parts of libp2p's components this service uses. */
export interface RaftTransportComponents {
  readonly registrar: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string, options?: AbortOptions): Promise<void>
  }
  readonly connectionManager: {
    openStream(peer: PeerId, protocol: string, options?: AbortOptions): Promise<Stream>
  }
  readonly peerStore: Pick<PeerStore, 'merge'>
}

export interface RaftTransportInit {
  /** Whether a peer is admitted to the mesh; streams from any other are refused. */
  readonly isAdmitted: (peerId: string) => boolean
  readonly logger: Logger
  /** Overrides of protocol/limits.ts, for tests that need a bound to bite quickly. */
  readonly limits?: Partial<RaftLinkLimits>
}

const DEFAULT_LIMITS: RaftLinkLimits = {
  queueMessagesMax: constants.RAFT_PEER_QUEUE_MESSAGES_MAX,
  queueBytesMax: constants.RAFT_PEER_QUEUE_BYTES_MAX,
  frameBytesMax: constants.RAFT_FRAME_BYTES_MAX,
  snapshotChunkBytes: constants.RAFT_SNAPSHOT_CHUNK_BYTES,
  streamOpenTimeoutMs: constants.RAFT_STREAM_OPEN_TIMEOUT_MS,
  writeTimeoutMs: constants.RAFT_WRITE_TIMEOUT_MS,
  backoffMsMin: constants.RAFT_RECONNECT_BACKOFF_MS_MIN,
  backoffMsMax: constants.RAFT_RECONNECT_BACKOFF_MS_MAX,
  snapshotAckTimeoutMs: constants.RAFT_SNAPSHOT_ACK_TIMEOUT_MS,
  snapshotIdleTimeoutMs: constants.RAFT_SNAPSHOT_IDLE_TIMEOUT_MS,
}

export class Libp2pRaftTransport implements RaftTransport, Startable {
  readonly [Symbol.toStringTag] = '@gridx/raft-transport'
  readonly #components: RaftTransportComponents
  readonly #init: RaftTransportInit
  readonly #limits: RaftLinkLimits
  readonly #links = new Map<string, RaftPeerLink>()
  /** The stream each peer sends on now; a newer one from the same peer replaces it. */
  readonly #inbound = new Map<string, Stream>()
  readonly #refusals: RefusalLog
  #handler: RaftTransportHandler | undefined
  #started = false

  constructor(components: RaftTransportComponents, init: RaftTransportInit) {
    this.#components = components
    this.#init = init
    this.#limits = { ...DEFAULT_LIMITS, ...init.limits }
    this.#refusals = new RefusalLog({ logger: init.logger })
  }

  listen(handler: RaftTransportHandler): void {
    this.#handler = handler
  }

  async start(): Promise<void> {
    await this.#components.registrar.handle(
      constants.RAFT_PROTOCOL,
      (stream, connection) => this.#accept(stream, connection),
      {
        maxInboundStreams: constants.RAFT_STREAMS_PER_CONNECTION_MAX,
        maxOutboundStreams: constants.RAFT_STREAMS_PER_CONNECTION_MAX,
      },
    )
    this.#started = true
  }

  async stop(): Promise<void> {
    this.#started = false
    await this.#components.registrar.unhandle(constants.RAFT_PROTOCOL)
    const links = [...this.#links.values()]
    this.#links.clear()
    await Promise.all(links.map((link) => link.stop()))
    for (const stream of this.#inbound.values()) stream.abort(new Error('transport stopped'))
    this.#inbound.clear()
  }

  /** Queues each message for its peer (`to` is a PeerId string). Never throws for a peer that
   * cannot be reached, nor for one that is not a PeerId (dropped and logged); a message that
   * cannot be encoded is a programmer error and throws. Snapshot outcomes are reported on a
   * later microtask, never from inside this call. */
  send(messages: readonly raft.Message[]): void {
    for (const message of messages) {
      const encoded = encodeRaftMessage(message)
      const link = this.#started ? this.#link(message.to) : undefined
      if (link === undefined) {
        const { to } = message
        if (message.type === 'snapshot') {
          queueMicrotask(() => this.#handler?.onSnapshotStatus(to, false))
        }
        continue
      }
      link.enqueue(encoded, message.type === 'snapshot')
    }
  }

  /** Tells libp2p where a peer may be dialled; the next stream to it uses these addresses. */
  async setPeerAddresses(peerId: string, addresses: readonly string[]): Promise<void> {
    const multiaddrs = addresses.map((address) => multiaddr(address))
    await this.#components.peerStore.merge(peerIdFromString(peerId), { multiaddrs })
  }

  /** Queue and stream counters for one peer, for metrics and tests. */
  stats(peerId: string): RaftPeerLinkStats | undefined {
    return this.#links.get(peerId)?.stats()
  }

  /** Forgets a peer that left the mesh: its queue, its stream, its pending snapshot. */
  async removePeer(peerId: string): Promise<void> {
    const link = this.#links.get(peerId)
    this.#links.delete(peerId)
    await link?.stop()
  }

  #link(peerId: string): RaftPeerLink | undefined {
    let link = this.#links.get(peerId)
    if (link === undefined) {
      let peer: PeerId
      try {
        peer = peerIdFromString(peerId)
      } catch (error) {
        const { logger } = this.#init
        logger.error({ peer: peerId, err: error }, 'raft message to a peer that is not a PeerId')
        return undefined
      }
      link = new RaftPeerLink({
        peerId,
        open: (signal) =>
          this.#components.connectionManager.openStream(peer, constants.RAFT_PROTOCOL, {
            signal,
          }),
        onSnapshotStatus: (delivered) => this.#handler?.onSnapshotStatus(peerId, delivered),
        logger: this.#init.logger,
        limits: this.#limits,
      })
      this.#links.set(peerId, link)
    }
    return link
  }

  #accept(stream: Stream, connection: Connection): void {
    const remotePeer = connection.remotePeer.toString()
    const handler = this.#handler
    if (!this.#init.isAdmitted(remotePeer)) {
      this.#refusals.refused(remotePeer, NOT_ADMITTED, {}, 'refused a raft stream')
      stream.abort(new Error(`raft stream refused: ${NOT_ADMITTED}`))
      return
    }
    if (handler === undefined) {
      // This peer is still opening its ledger (a joiner's first start hears from the
      // coordinator first): not the sender's fault, and its link retries with backoff.
      this.#init.logger.debug({ peer: remotePeer }, 'raft stream before this peer listens')
      stream.abort(new Error('raft stream refused: this peer is starting'))
      return
    }
    // Our own stream to that peer may be waiting out a backoff it no longer needs.
    this.#links.get(remotePeer)?.reachable()
    this.#inbound.get(remotePeer)?.abort(new Error('replaced by a newer stream'))
    this.#inbound.set(remotePeer, stream)
    void serveRaftStream({
      stream,
      remotePeer,
      handler,
      isAdmitted: this.#init.isAdmitted,
      logger: this.#init.logger,
      refusals: this.#refusals,
      limits: this.#limits,
    }).finally(() => {
      if (this.#inbound.get(remotePeer) === stream) this.#inbound.delete(remotePeer)
    })
  }
}

/** The service factory: `services: { raft: raftTransport({ isAdmitted, logger }) }`. */
export function raftTransport(
  init: RaftTransportInit,
): (components: RaftTransportComponents) => Libp2pRaftTransport {
  return (components) => new Libp2pRaftTransport(components, init)
}
