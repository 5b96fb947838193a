// The peer's libp2p host: TCP and WebSockets, Noise, Yamux, identify and ping (DESIGN
// section 1). Consensus and executor streams will ride on it; today it identifies the peer
// and keeps track of who is connected.
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'

export interface MeshNodeInit {
  readonly privateKey: PrivateKey
  readonly host: string
  /** TCP port; WebSockets listen on the next one. 0 picks free ports. */
  readonly port: number
}

export interface MeshPeer {
  readonly peerId: string
  readonly addresses: readonly string[]
}

export class MeshNode {
  readonly #init: MeshNodeInit
  #node: Libp2p | null = null

  constructor(init: MeshNodeInit) {
    this.#init = init
  }

  async start(): Promise<void> {
    const { host, port } = this.#init
    const wsPort = port === 0 ? 0 : port + 1
    this.#node = await createLibp2p({
      privateKey: this.#init.privateKey,
      addresses: {
        listen: [`/ip4/${host}/tcp/${port}`, `/ip4/${host}/tcp/${wsPort}/ws`],
      },
      transports: [tcp(), webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        ping: ping(),
      },
    })
  }

  async stop(): Promise<void> {
    await this.#node?.stop()
    this.#node = null
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
}
