// The peer's libp2p host: TCP and WebSockets, Noise, Yamux, identify and ping (DESIGN
// section 1), and, when the daemon hands it `protocols`, our mesh protocols as libp2p services
// (/gridx/raft/1.0.0, /gridx/join/1.0.0) behind the admission gate.
import { identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PeerId, PrivateKey, Startable } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Logger } from 'pino'
import type { JoinToken } from '../../protocol/index.ts'
import { admissionGate, combineGaters } from './connection-gate.ts'
import type { MeshPartition } from './connection-gate.ts'
import * as constants from './constants.ts'
import { joinAddress, joinMesh } from './join-mesh.ts'
import type { JoinOptions, Joined } from './join-mesh.ts'
import { joinService } from './join-service.ts'
import type { JoinService, JoinServiceInit } from './join-service.ts'
import { raftTransport } from './raft-transport.ts'
import type {
  Libp2pRaftTransport,
  RaftTransportComponents,
  RaftTransportInit,
} from './raft-transport.ts'

/** The parts of libp2p's components our protocol services use. */
export type MeshComponents = RaftTransportComponents

/** What the daemon hands MeshNode to make it a member of a mesh. */
export interface MeshProtocolsInit {
  /** Whether a peer is admitted, from the replicated state. The gate and every protocol of
   * ours ask it; it must answer at once (it runs inside libp2p's upgrade). */
  readonly isAdmitted: (peerId: string) => boolean
  /** Whether a peer is in the Raft configuration in force. The Raft protocol also accepts
   * such a peer: one that left the mesh stays a member until its removal is in force, and
   * until then the quorum may need its acknowledgements (two voters, one leaving). */
  readonly isRaftMember?: (peerId: string) => boolean
  readonly logger: Logger
  /** The member side of joins; absent, this peer turns every join away. */
  readonly join?: Omit<JoinServiceInit, 'logger'>
  /** Overrides of protocol/limits.ts, for tests that need a bound to bite quickly. */
  readonly raftLimits?: RaftTransportInit['limits']
  /** How long a stranger may stay connected to join; protocol's JOIN_WINDOW_MS. */
  readonly joinWindowMs?: number
  /** More of our protocols as libp2p services by name (the executor server or client), each
   * a `factory(init)` already given its init. The caller keeps the instance its factory
   * returns; libp2p starts and stops it with the node. */
  readonly services?: Readonly<Record<string, (components: MeshComponents) => Startable>>
  /** Test-only: the peers this node is cut off from, changed while it runs, to partition a
   * mesh. The daemon sets it only when a test hands its Daemon one; main.ts never does. */
  readonly partition?: MeshPartition
}

export interface MeshNodeInit {
  readonly privateKey: PrivateKey
  readonly host: string
  /** TCP port. 0 picks a free one. */
  readonly port: number
  /** WebSocket port; by default the TCP port + 1 (a free one when `port` is 0). */
  readonly wsPort?: number
  /** Absent: identify and ping only and every connection accepted (the one-machine peer). */
  readonly protocols?: MeshProtocolsInit
}

/** The WebSocket port a mesh node listens on unless told otherwise. */
export function defaultWsPort(port: number): number {
  return port === 0 ? 0 : port + 1
}

/** Shaped like Node's own listen error (`code`, `port`), so that one check in the CLI names
 * whichever port of the daemon is taken; libp2p reports it only inside a message. */
function portInUse(port: number, cause: unknown): Error {
  const error = new Error(`listen EADDRINUSE: port ${port} is already in use`, { cause })
  return Object.assign(error, { code: 'EADDRINUSE', port })
}

export interface MeshPeer {
  readonly peerId: string
  readonly addresses: readonly string[]
}

/** A peer's first connection opened, or its last one closed. */
export interface MeshConnectionEvent {
  readonly type: 'connect' | 'disconnect'
  readonly peerId: string
}

/** Service names MeshNode fills itself; a caller's service may not take one. */
const RESERVED_SERVICES = ['identify', 'ping', 'raft', 'join'] as const

interface Protocols {
  raft: Libp2pRaftTransport | undefined
  join: JoinService | undefined
}

export class MeshNode {
  readonly #init: MeshNodeInit
  readonly #peerId: PeerId
  #node: Libp2p | null = null
  #detachPartition: (() => void) | undefined
  #protocols: Protocols = { raft: undefined, join: undefined }

  constructor(init: MeshNodeInit) {
    this.#init = init
    this.#peerId = peerIdFromPrivateKey(init.privateKey)
  }

  get peerId(): string {
    return this.#peerId.toString()
  }

  /** The Raft transport the ledger's driver sends on. Throws unless started with protocols. */
  get raft(): Libp2pRaftTransport {
    const { raft } = this.#protocols
    if (raft === undefined) throw new Error('this mesh node was started with no mesh protocols')
    return raft
  }

  async start(): Promise<void> {
    const { host, port } = this.#init
    const wsPort = this.#init.wsPort ?? defaultWsPort(port)
    const listen = [`/ip4/${host}/tcp/${port}`, `/ip4/${host}/tcp/${wsPort}/ws`]
    try {
      this.#node = await this.#create(listen)
      this.#detachPartition = this.#init.protocols?.partition?.attach((peer) => this.hangUp(peer))
    } catch (error) {
      // libp2p lists each failed address in its message as `<address>: <error>`.
      const message = String((error as Error).message)
      const taken = [port, wsPort].find((candidate, at) => {
        const line = message.split('\n').find((text) => text.includes(`${listen[at]}: `))
        return candidate !== 0 && line !== undefined && line.includes('EADDRINUSE')
      })
      throw taken === undefined ? error : portInUse(taken, error)
    }
  }

  #create(listen: string[]): Promise<Libp2p> {
    const protocols = this.#init.protocols
    const clash = RESERVED_SERVICES.filter((name) => protocols?.services?.[name] !== undefined)
    if (clash.length > 0) throw new Error(`services ${clash.join(', ')} are MeshNode's own`)
    const gater = protocols === undefined ? undefined : this.#gater(protocols)
    // The factories keep the instances libp2p builds, so their types need no cast.
    const found: Protocols = { raft: undefined, join: undefined }
    this.#protocols = found
    return createLibp2p({
      privateKey: this.#init.privateKey,
      addresses: { listen },
      transports: [tcp(), webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: { maxConnections: constants.MESH_CONNECTIONS_MAX },
      ...(gater === undefined ? {} : { connectionGater: gater }),
      services: {
        ...protocols?.services,
        identify: identify(),
        ping: ping(),
        ...(protocols === undefined
          ? {}
          : {
              raft: (components: Parameters<ReturnType<typeof raftTransport>>[0]) =>
                (found.raft = raftTransport(raftInit(protocols))(components)),
            }),
        ...(protocols?.join === undefined
          ? {}
          : {
              join: (components: Parameters<ReturnType<typeof joinService>>[0]) =>
                (found.join = joinService({ ...joinInit(protocols) })(components)),
            }),
      },
    })
  }

  #gater(protocols: MeshProtocolsInit): ConnectionGater {
    const admission = admissionGate({
      isAdmitted: protocols.isAdmitted,
      logger: protocols.logger,
      ...(protocols.joinWindowMs === undefined ? {} : { joinWindowMs: protocols.joinWindowMs }),
    })
    const { partition } = protocols
    return partition === undefined ? admission : combineGaters(partition.gater, admission)
  }

  async stop(): Promise<void> {
    this.#detachPartition?.()
    this.#detachPartition = undefined
    await this.#node?.stop()
    this.#node = null
    this.#protocols = { raft: undefined, join: undefined }
  }

  addresses(): string[] {
    return this.#node?.getMultiaddrs().map((address) => address.toString()) ?? []
  }

  /** Peers with an open connection now. */
  connectedPeers(): MeshPeer[] {
    const node = this.#node
    if (node === null) return []
    return node.getPeers().map((peer) => ({
      peerId: peer.toString(),
      addresses: node.getConnections(peer).map((connection) => connection.remoteAddr.toString()),
    }))
  }

  /** Joins the mesh `token` names through the member at `address` (`HOST[:PORT]` or a
   * multiaddr), then records every member's addresses so that our protocols can dial them by
   * PeerId. Errors are joinMesh's: JoinTokenError, ImpostorError, JoinRefusedError,
   * JoinFailedError. */
  async join(address: string, token: string | JoinToken, options: JoinOptions): Promise<Joined> {
    const node = this.#started()
    const joined = await joinMesh(node, address, token, options)
    for (const member of joined.members) {
      if (member.peerId === this.peerId) continue
      const multiaddrs = member.addresses.map((text) => multiaddr(text))
      await node.peerStore.merge(peerIdFromString(member.peerId), { multiaddrs })
    }
    return joined
  }

  /** Opens a connection to `peerId` at `address`, refusing any other peer found there. */
  async dial(address: string, peerId: string, signal?: AbortSignal): Promise<void> {
    const target = joinAddress(address).encapsulate(`/p2p/${peerId}`)
    const timeout = AbortSignal.timeout(constants.MESH_DIAL_TIMEOUT_MS)
    await this.#started().dial(target, {
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    })
  }

  /** Closes every connection with `peerId` (a partition test cuts them after the gate). */
  async hangUp(peerId: string): Promise<void> {
    await this.#started().hangUp(peerIdFromString(peerId))
  }

  /** Calls `listener` when a peer's first connection opens or its last one closes; returns
   * the call that stops it. The listener runs inside libp2p's event dispatch: it should queue
   * work, not do it. */
  onConnection(listener: (event: MeshConnectionEvent) => void): () => void {
    const node = this.#started()
    const connect = (event: CustomEvent<PeerId>) =>
      listener({ type: 'connect', peerId: event.detail.toString() })
    const disconnect = (event: CustomEvent<PeerId>) =>
      listener({ type: 'disconnect', peerId: event.detail.toString() })
    node.addEventListener('peer:connect', connect)
    node.addEventListener('peer:disconnect', disconnect)
    return () => {
      node.removeEventListener('peer:connect', connect)
      node.removeEventListener('peer:disconnect', disconnect)
    }
  }

  #started(): Libp2p {
    if (this.#node === null) throw new Error('the mesh node is not started')
    return this.#node
  }
}

function raftInit(protocols: MeshProtocolsInit): RaftTransportInit {
  const { isAdmitted: admitted, isRaftMember: member, logger, raftLimits } = protocols
  const isAdmitted =
    member === undefined ? admitted : (peer: string) => admitted(peer) || member(peer)
  return { isAdmitted, logger, ...(raftLimits === undefined ? {} : { limits: raftLimits }) }
}

function joinInit(protocols: MeshProtocolsInit): JoinServiceInit {
  const join = protocols.join
  if (join === undefined) throw new Error('joinInit needs protocols.join')
  return { ...join, logger: protocols.logger }
}
