// libp2p 3 expects two things Node 20 lacks: Promise.withResolvers and a global WebSocket
// (used to dial /ws addresses). Node 22 has both; this module is a no-op there.
import { createRequire } from 'node:module'

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}

if (typeof globalThis.WebSocket === 'undefined') {
  // ws is loaded at the first use of the global, not here: a CLI command that opens no socket
  // starts faster without it.
  const require = createRequire(import.meta.url)
  let loaded: typeof globalThis.WebSocket | undefined
  Object.defineProperty(globalThis, 'WebSocket', {
    configurable: true,
    get: () => (loaded ??= browserLike((require('ws') as typeof import('ws')).WebSocket) as never),
    set: (value: typeof globalThis.WebSocket) => {
      loaded = value
    },
  })
}

type WsWebSocket = typeof import('ws').WebSocket

/**
 * ws's WebSocket with a browser's 'error': an event nobody has to handle. ws emits it as an
 * EventEmitter's 'error', thrown when no one listens, and libp2p's WebSockets transport drops
 * its listener when it aborts a dial: a refusal landing after that killed the process. Every
 * other listener still gets the error, and a 'close' follows it.
 */
function browserLike(Base: WsWebSocket): WsWebSocket {
  return new Proxy(Base, {
    construct(target, args: ConstructorParameters<WsWebSocket>, newTarget) {
      const socket = Reflect.construct(target, args, newTarget) as InstanceType<WsWebSocket>
      socket.on('error', () => undefined)
      return socket
    },
  })
}
