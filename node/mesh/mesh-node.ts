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
  /** TCP port. 0 picks a free one. */
  readonly port: number
  /** WebSocket port; by default the TCP port + 1 (a free one when `port` is 0). */
  readonly wsPort?: number
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

export class MeshNode {
  readonly #init: MeshNodeInit
  #node: Libp2p | null = null

  constructor(init: MeshNodeInit) {
    this.#init = init
  }

  async start(): Promise<void> {
    const { host, port } = this.#init
    const wsPort = this.#init.wsPort ?? defaultWsPort(port)
    const listen = [`/ip4/${host}/tcp/${port}`, `/ip4/${host}/tcp/${wsPort}/ws`]
    try {
      this.#node = await this.#create(listen)
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
    return createLibp2p({
      privateKey: this.#init.privateKey,
      addresses: { listen },
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
