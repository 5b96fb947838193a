// The WebSocket the daemon installs on Node 20 (ws) must behave like a browser's: libp2p's
// WebSockets transport drops its 'error' listener when a dial is aborted, and a refused
// connection that lands afterwards must not be thrown (it would kill the daemon).
import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url))
const polyfills = fileURLToPath(new URL('../../node/polyfills.ts', import.meta.url))

/** A loopback port nothing listens on: bound, read, released. */
async function refusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('The WebSocket polyfill', () => {
  it('should close, not throw, when a socket with no error listener is refused', async () => {
    const port = await refusedPort()
    // A child process: an uncaught exception there is its exit code, not this runner's.
    const code = [
      `await import(${JSON.stringify(polyfills)})`,
      `const socket = new WebSocket('ws://127.0.0.1:${port}/')`,
      `socket.addEventListener('close', () => console.log('closed'))`,
    ].join('\n')
    const { stdout } = await run(tsx, ['--input-type=module', '-e', code], { timeout: 30_000 })
    expect(stdout.trim()).toBe('closed')
  }, 60_000)
})
