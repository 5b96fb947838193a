// Real libp2p nodes on 127.0.0.1 carrying the Raft transport, each with a receiver that records
// what it stepped, for the transport's tests and figures.
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import pino from 'pino'
import type { raft } from '../../../ledger/index.ts'
import { RAFT_PROTOCOL } from '../../../protocol/index.ts'
import { raftTransport } from '../../../node/mesh/index.ts'
import type { Libp2pRaftTransport, RaftTransportInit } from '../../../node/mesh/index.ts'

export interface LogLine {
  readonly level: number
  readonly msg: string
  readonly peer?: string
  readonly err?: { readonly type?: string; readonly message?: string }
}

export interface RaftPeer {
  readonly node: Libp2p<{ raft: Libp2pRaftTransport }>
  readonly id: string
  readonly transport: Libp2pRaftTransport
  /** Messages stepped, in order of arrival. */
  readonly received: raft.Message[]
  /** Snapshot outcomes reported to this peer as a sender, in order. */
  readonly snapshotStatus: { to: string; delivered: boolean }[]
  readonly log: LogLine[]
  /** Replaces how the receiver steps a message (the default records it at once). */
  onMessage: (message: raft.Message) => Promise<void>
  admitted: Set<string>
}

export interface RaftPeerOptions {
  readonly limits?: RaftTransportInit['limits']
  /** A fixed TCP port, so a restarted peer comes back where the others expect it. */
  readonly port?: number
  readonly privateKey?: PrivateKey
  readonly connectionGater?: ConnectionGater
  /** False: no receiver is installed, as in a daemon whose ledger is still opening. */
  readonly listen?: false
}

export async function startRaftPeer(options: RaftPeerOptions = {}): Promise<RaftPeer> {
  const log: LogLine[] = []
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void log.push(JSON.parse(line)) },
  )
  const admitted = new Set<string>()
  const peer = { log, admitted, received: [], snapshotStatus: [] } as unknown as RaftPeer
  peer.onMessage = (message) => {
    peer.received.push(message)
    return Promise.resolve()
  }
  const node = await createLibp2p({
    ...(options.privateKey === undefined ? {} : { privateKey: options.privateKey }),
    ...(options.connectionGater === undefined ? {} : { connectionGater: options.connectionGater }),
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${options.port ?? 0}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      raft: raftTransport({
        isAdmitted: (peerId) => peer.admitted.has(peerId),
        logger,
        ...(options.limits === undefined ? {} : { limits: options.limits }),
      }),
    },
  })
  if (options.listen !== false) {
    node.services.raft.listen({
      onMessage: (message) => peer.onMessage(message),
      onSnapshotStatus: (to, delivered) => void peer.snapshotStatus.push({ to, delivered }),
    })
  }
  return Object.assign(peer, { node, id: node.peerId.toString(), transport: node.services.raft })
}

/** Admits every peer at every other and tells each where the others listen. */
export async function meshTogether(peers: readonly RaftPeer[]): Promise<void> {
  for (const peer of peers) {
    for (const other of peers) {
      if (other === peer) continue
      peer.admitted.add(other.id)
      const addresses = other.node.getMultiaddrs().map((address) => address.toString())
      await peer.transport.setPeerAddresses(other.id, addresses)
    }
  }
}

/** Raft streams between two peers, as libp2p's connections list them. */
export function raftStreams(from: RaftPeer, to: RaftPeer, direction: 'inbound' | 'outbound') {
  return from.node
    .getConnections(to.node.peerId)
    .flatMap((connection) => connection.streams)
    .filter((stream) => stream.protocol === RAFT_PROTOCOL && stream.direction === direction)
}

export function appendMessage(from: RaftPeer, to: RaftPeer, index: number): raft.Message {
  const data = new TextEncoder().encode(`entry ${index}`)
  return {
    type: 'append',
    from: from.id,
    to: to.id,
    term: 1,
    logTerm: 1,
    index: index - 1,
    entries: [{ term: 1, index, type: 'normal', data }],
    commit: index - 1,
    reject: false,
    rejectHint: 0,
    snapshot: undefined,
    context: new Uint8Array(0),
  }
}
