// Small pieces of the executor client's reconnect loop: whom to dial, and how to wait.
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { CoordinatorAddress } from './executor-client-init.ts'

/** The coordinator's addresses, each naming its PeerId, so the Noise handshake proves that
 * the peer that answers is the one `findCoordinator` named. */
export function dialTargets(target: CoordinatorAddress): Multiaddr[] {
  const peer = target.peerId.toString()
  return target.addresses.map((address) =>
    address.getComponents().some((component) => component.name === 'p2p')
      ? address
      : address.encapsulate(multiaddr(`/p2p/${peer}`)),
  )
}

/** Resolves after `delayMs`, or at once when `signal` aborts (the loop then sees it). */
export function sleep(delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, delayMs)
    signal.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
