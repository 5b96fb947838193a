// `gridx start` and its three listening ports: the API, the peer-to-peer TCP port and the
// peer-to-peer WebSocket port. A taken port is named, with the flag that moves it.
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import type { Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runGridx, startGridxDaemon } from '../../scripts/lib/gridx-process.ts'

/** Holds a loopback port, as another program would. */
async function holdPort(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port }, () => resolve())
  })
  return { server, port: (server.address() as { port: number }).port }
}

/** Two consecutive free ports, p and p + 1 (held, then released for the daemon). */
async function freePair(): Promise<number> {
  for (;;) {
    const first = await holdPort()
    const second = await holdPort(first.port + 1).catch(() => undefined)
    first.server.close()
    second?.server.close()
    if (second !== undefined && first.port < 65535) return first.port
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('gridx start ports', () => {
  let dataDir: string
  const held: Server[] = []
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gridx-ports-'))
  })
  afterEach(async () => {
    for (const server of held.splice(0)) server.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  const start = (args: string[]) =>
    runGridx(['start', '--data-dir', dataDir, '--p2p-host', '127.0.0.1', ...args], {
      env: { DOCKER_HOST: `unix://${join(dataDir, 'no-docker.sock')}` },
    })

  it('should name the API port and --api-port when the API port is taken', async () => {
    const taken = await holdPort()
    held.push(taken.server)
    const result = await start(['--api-port', String(taken.port), '--p2p-port', '0'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(`API port ${taken.port} is already in use`)
    expect(result.stderr).toContain('--api-port')
  })

  it('should name the peer-to-peer port and --p2p-port when that port is taken', async () => {
    const taken = await holdPort()
    held.push(taken.server)
    const result = await start(['--api-port', '0', '--p2p-port', String(taken.port)])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(`peer-to-peer TCP port ${taken.port} is already in use`)
    expect(result.stderr).toContain('--p2p-port')
  })

  it('should name the WebSocket port and --p2p-ws-port when p2p port + 1 is taken', async () => {
    const port = await freePair()
    const taken = await holdPort(port + 1)
    held.push(taken.server)
    const result = await start(['--api-port', '0', '--p2p-port', String(port)])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(`peer-to-peer WebSocket port ${port + 1} is already in use`)
    expect(result.stderr).toContain('--p2p-ws-port')
    // The user never typed that port: the message says where it came from.
    expect(result.stderr).toContain(`--p2p-port ${port} + 1`)
  })

  it('should name both flags when two of them give the daemon the same port', async () => {
    const port = await freePair()
    const cases = [
      { args: ['--api-port', '0', '--p2p-port', String(port), '--p2p-ws-port', String(port)] },
      { args: ['--api-port', String(port), '--p2p-port', '0', '--p2p-ws-port', String(port)] },
      { args: ['--api-port', String(port + 1), '--p2p-port', String(port)] },
    ]
    const flags = [
      ['--p2p-port', '--p2p-ws-port'],
      ['--api-port', '--p2p-ws-port'],
      ['--api-port', '--p2p-ws-port'],
    ]
    for (const [index, { args }] of cases.entries()) {
      const result = await start(args)
      expect(result.code).not.toBe(0)
      // Nothing else holds the port: blaming "another gridx" would send the user hunting.
      expect(result.stderr).not.toContain('another gridx')
      for (const flag of flags[index] ?? []) expect(result.stderr).toContain(flag)
    }
  })

  it('should listen for WebSockets on --p2p-ws-port instead of p2p port + 1', async () => {
    const port = await freePair()
    const wsPort = await freePair()
    const daemon = await startGridxDaemon(
      dataDir,
      ['--p2p-port', String(port), '--p2p-ws-port', String(wsPort), '--no-executor'],
      { env: { DOCKER_HOST: `unix://${join(dataDir, 'no-docker.sock')}` } },
    )
    try {
      expect(await accepts(port)).toBe(true)
      expect(await accepts(wsPort)).toBe(true)
      expect(await accepts(port + 1)).toBe(false)
    } finally {
      daemon.child.kill('SIGTERM')
      await daemon.exited
    }
  })

  it('should document --p2p-ws-port and its default in gridx start --help', async () => {
    // Help wraps to the terminal's width: compare with the line breaks folded away.
    const help = (await runGridx(['start', '--help'])).stdout.replace(/\s+/g, ' ')
    expect(help).toContain('--p2p-ws-port <port> peer-to-peer WebSocket port')
    expect(help).toContain('(default: the peer-to-peer port + 1)')
  })
})
