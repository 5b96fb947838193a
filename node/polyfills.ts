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
    get: () => (loaded ??= (require('ws') as typeof import('ws')).WebSocket as never),
    set: (value: typeof globalThis.WebSocket) => {
      loaded = value
    },
  })
}
