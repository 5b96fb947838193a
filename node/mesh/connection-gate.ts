// Connection gaters (libp2p's `connectionGater` option). `admissionGate` is the daemon's: only
// admitted peers keep connections, except for a short window in which a stranger may run the
// join protocol. `MeshPartition` (over `denyPeers`) is for partition tests only: it cuts this
// peer off from a set of peers while it runs.
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import * as constants from './constants.ts'
import { NotAdmittedError } from './errors.ts'

export interface AdmissionGateInit {
  /** Whether a peer is admitted to the mesh (from the replicated state). */
  readonly isAdmitted: (peerId: string) => boolean
  readonly logger: Logger
  /** How long a stranger's connection may stay open to join; protocol's JOIN_WINDOW_MS. */
  readonly joinWindowMs?: number
  /** Strangers' connections open at once; protocol's JOIN_STRANGERS_MAX. */
  readonly strangersMax?: number
}

/** Lets admitted peers connect; gives any other peer a join window, then closes it unless it
 * was admitted meanwhile. Outbound connections are this peer's own choice and pass. */
export function admissionGate(init: AdmissionGateInit): ConnectionGater {
  const windowMs = init.joinWindowMs ?? constants.JOIN_WINDOW_MS
  const strangersMax = init.strangersMax ?? constants.JOIN_STRANGERS_MAX
  const windows = new Map<MultiaddrConnection, NodeJS.Timeout>()
  return {
    denyInboundUpgradedConnection(peerId: PeerId, connection: MultiaddrConnection): boolean {
      const peer = peerId.toString()
      if (init.isAdmitted(peer)) return false
      if (windows.size >= strangersMax) {
        init.logger.warn({ peer, strangersMax }, 'refused a connection: too many strangers')
        return true
      }
      const timer = setTimeout(() => {
        windows.delete(connection)
        if (init.isAdmitted(peer)) return
        init.logger.info({ peer }, 'closed the connection of a peer that did not join in time')
        connection.abort(new NotAdmittedError(peer))
      }, windowMs)
      // A pending window must not keep a stopping daemon alive.
      timer.unref()
      windows.set(connection, timer)
      connection.addEventListener(
        'close',
        () => {
          clearTimeout(timer)
          windows.delete(connection)
        },
        { once: true },
      )
      return false
    },
  }
}

/** Refuses every connection to or from the peers in `denied`, which the caller may change at
 * any time. Connections open already are the caller's to close; MeshPartition does both. */
export function denyPeers(denied: ReadonlySet<string>): ConnectionGater {
  const deny = (peerId: PeerId) => denied.has(peerId.toString())
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
  }
}

/**
 * Test-only: the peers one node is cut off from, changed while the node runs, so that a test
 * can partition a running mesh and heal it. A cut closes the connections open to those peers
 * (a pulled cable ends them too) and the gater refuses new ones both ways until healed. The
 * daemon's composition root never makes one: neither the CLI nor the API can reach it.
 */
export class MeshPartition {
  readonly #denied = new Set<string>()
  readonly gater: ConnectionGater = denyPeers(this.#denied)
  #hangUp: ((peerId: string) => Promise<void>) | undefined

  /** MeshNode calls it once started, with the call that closes a peer's connections. */
  attach(hangUp: (peerId: string) => Promise<void>): () => void {
    this.#hangUp = hangUp
    return () => {
      if (this.#hangUp === hangUp) this.#hangUp = undefined
    }
  }

  /** Cuts the node off from `peers`: refuses them from now on and closes what is open. */
  async cut(peers: Iterable<string>): Promise<void> {
    const hangUp = this.#hangUp
    if (hangUp === undefined) throw new Error('the partition is not attached to a started node')
    const list = [...peers]
    for (const peer of list) this.#denied.add(peer)
    await Promise.all(list.map((peer) => hangUp(peer)))
  }

  /** Lets `peers` (all, when absent) connect again; Raft and the executors redial them. */
  heal(peers?: Iterable<string>): void {
    if (peers === undefined) this.#denied.clear()
    else for (const peer of peers) this.#denied.delete(peer)
  }

  /** The peers cut off now. */
  denied(): ReadonlySet<string> {
    return this.#denied
  }
}

/** One gater that denies what any of `gaters` denies. */
export function combineGaters(...gaters: readonly ConnectionGater[]): ConnectionGater {
  const hooks = [
    'denyDialPeer',
    'denyDialMultiaddr',
    'denyInboundConnection',
    'denyOutboundConnection',
    'denyInboundEncryptedConnection',
    'denyOutboundEncryptedConnection',
    'denyInboundUpgradedConnection',
    'denyOutboundUpgradedConnection',
  ] as const
  const combined: Record<string, (...args: never[]) => Promise<boolean>> = {}
  for (const hook of hooks) {
    combined[hook] = async (...args: never[]) => {
      for (const gater of gaters) {
        const check = gater[hook] as ((...args: never[]) => boolean | Promise<boolean>) | undefined
        if (check !== undefined && (await check.apply(gater, args))) return true
      }
      return false
    }
  }
  return combined as ConnectionGater
}
