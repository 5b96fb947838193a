// MeshNode as the daemon will run it: real libp2p hosts on loopback carrying our protocols as
// services, with the admission gate (and, when a test asks, the partition gate) in front.
import { generateKeyPair } from '@libp2p/crypto/keys'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { raft } from '../../../ledger/index.ts'
import {
  JoinFailedError,
  MeshNode,
  MeshPartition,
  generateJoinSecret,
} from '../../../node/mesh/index.ts'
import type { MeshConnectionEvent, MeshProtocolsInit } from '../../../node/mesh/index.ts'
import { formatJoinToken } from '../../../protocol/index.ts'
import type { LogLine } from './raft-peers.ts'

const started: MeshNode[] = []

afterEach(async () => {
  await Promise.all(started.splice(0).map((node) => node.stop()))
})

interface TestPeer {
  readonly node: MeshNode
  readonly admitted: Set<string>
  readonly log: LogLine[]
  readonly received: raft.Message[]
}

async function peer(protocols?: Partial<MeshProtocolsInit>): Promise<TestPeer> {
  const admitted = new Set<string>()
  const log: LogLine[] = []
  const received: raft.Message[] = []
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void log.push(JSON.parse(line)) },
  )
  const node = new MeshNode({
    privateKey: await generateKeyPair('Ed25519'),
    host: '127.0.0.1',
    port: 0,
    ...(protocols === undefined
      ? {}
      : { protocols: { isAdmitted: (id) => admitted.has(id), logger, ...protocols } }),
  })
  await node.start()
  started.push(node)
  if (protocols !== undefined) {
    node.raft.listen({
      onMessage: (message) => {
        received.push(message)
        return Promise.resolve()
      },
      onSnapshotStatus: () => undefined,
    })
  }
  return { node, admitted, log, received }
}

/** `HOST:PORT` of the node's TCP listener, as a user types it after --join. */
function address(node: MeshNode): string {
  const tcp = node.addresses().find((text) => !text.includes('/ws'))
  const parts = tcp?.split('/') ?? []
  return `${parts[2]}:${parts[4]}`
}

function heartbeat(from: string, to: string): raft.Message {
  return {
    type: 'heartbeat',
    from,
    to,
    term: 1,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: undefined,
    context: new Uint8Array(0),
  }
}

async function until(check: () => boolean, boundMs = 5_000): Promise<void> {
  const deadline = Date.now() + boundMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not true within ${boundMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A member that admits every joiner presenting `secret`, and records it as admitted. */
async function member(secret: string) {
  const self: { peer?: TestPeer } = {}
  const created = await peer({
    join: {
      meshId: () => 'mesh-test',
      admit: (request) => {
        if (request.secret !== secret) {
          return Promise.resolve({ accepted: false, code: 'WRONG_SECRET', message: 'no' })
        }
        self.peer?.admitted.add(request.peerId)
        const members = [{ peerId: created.node.peerId, addresses: created.node.addresses() }]
        return Promise.resolve({ accepted: true, members })
      },
    },
  })
  self.peer = created
  const token = formatJoinToken({
    role: 'voter',
    meshId: 'mesh-test',
    issuer: created.node.peerId,
    secret,
  })
  return { ...created, token }
}

describe('MeshNode', () => {
  it('should start and stop an extra protocol service when one is handed in', async () => {
    const calls: string[] = []
    const protocol = '/gridx/test-echo/1.0.0'
    const host = await peer({
      services: {
        echo: (components) => ({
          start: async () => {
            calls.push('start')
            await components.registrar.handle(protocol, (stream) => stream.abort(new Error('no')))
          },
          stop: async () => {
            calls.push('stop')
            await components.registrar.unhandle(protocol)
          },
        }),
      },
    })
    expect(calls).toEqual(['start'])
    await host.node.stop()
    expect(calls).toEqual(['start', 'stop'])
  })

  it('should keep the one-machine shape when started with no protocols', async () => {
    const plain = await peer()
    expect(plain.node.peerId).toMatch(/^12D3KooW/)
    expect(plain.node.addresses().length).toBe(2)
    expect(() => plain.node.raft).toThrow(/no mesh protocols/)
    const joiner = await peer({})
    const token = formatJoinToken({
      role: 'voter',
      meshId: 'mesh-test',
      issuer: plain.node.peerId,
      secret: generateJoinSecret(),
    })
    const error = await joiner.node.join(address(plain.node), token, { owner: 'alice' }).then(
      () => new Error('joined'),
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(JoinFailedError)
  })

  it('should admit a joiner and carry raft both ways when the token is good', async () => {
    const secret = generateJoinSecret()
    const host = await member(secret)
    const joiner = await peer({})
    const joined = await joiner.node.join(address(host.node), host.token, { owner: 'alice' })
    expect(joined.members.map((entry) => entry.peerId)).toEqual([host.node.peerId])
    expect(host.admitted.has(joiner.node.peerId)).toBe(true)
    joiner.admitted.add(host.node.peerId)
    // The joiner learnt the member's addresses from the reply, so it can dial it by PeerId.
    joiner.node.raft.send([heartbeat(joiner.node.peerId, host.node.peerId)])
    host.node.raft.send([heartbeat(host.node.peerId, joiner.node.peerId)])
    await until(() => host.received.length === 1 && joiner.received.length === 1)
    expect(host.received[0]?.from).toBe(joiner.node.peerId)
    expect(joiner.received[0]?.from).toBe(host.node.peerId)
  })

  it('should close a stranger’s connection when it does not join within the window', async () => {
    const host = await peer({ joinWindowMs: 100 })
    const stranger = await peer({})
    const events: MeshConnectionEvent[] = []
    const unsubscribe = host.node.onConnection((event) => events.push(event))
    await stranger.node.dial(address(host.node), host.node.peerId)
    await until(() => events.some((event) => event.type === 'disconnect'))
    expect(events).toEqual([
      { type: 'connect', peerId: stranger.node.peerId },
      { type: 'disconnect', peerId: stranger.node.peerId },
    ])
    expect(host.log.some((line) => line.msg.includes('did not join in time'))).toBe(true)
    unsubscribe()
  })

  it('should keep an admitted peer’s connection past the join window', async () => {
    const host = await peer({ joinWindowMs: 100 })
    const friend = await peer({})
    host.admitted.add(friend.node.peerId)
    await friend.node.dial(address(host.node), host.node.peerId)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(host.node.connectedPeers().map((entry) => entry.peerId)).toEqual([friend.node.peerId])
  })

  it('should close open connections and refuse the peer both ways when a test cuts it', async () => {
    const partition = new MeshPartition()
    const host = await peer({ partition })
    const other = await peer({})
    host.admitted.add(other.node.peerId)
    other.admitted.add(host.node.peerId)
    await other.node.dial(address(host.node), host.node.peerId)
    await until(() => host.node.connectedPeers().length === 1)
    // The cut closes the connection that is open, as a pulled cable would.
    await partition.cut([other.node.peerId])
    expect(host.node.connectedPeers()).toEqual([])
    // Until the other side sees the close, a dial there would reuse the old connection.
    await until(() => other.node.connectedPeers().length === 0)
    const events: MeshConnectionEvent[] = []
    const unsubscribe = host.node.onConnection((event) => events.push(event))
    await expect(host.node.dial(address(other.node), other.node.peerId)).rejects.toThrow()
    // The dialler may finish its half of the handshake; the host drops it before the upgrade.
    await other.node.dial(address(host.node), host.node.peerId).catch(() => undefined)
    await until(() => other.node.connectedPeers().length === 0)
    expect(events).toEqual([])
    expect(host.node.connectedPeers()).toEqual([])
    partition.heal()
    await other.node.dial(address(host.node), host.node.peerId)
    await until(() => host.node.connectedPeers().length === 1)
    expect(events).toEqual([{ type: 'connect', peerId: other.node.peerId }])
    unsubscribe()
  })

  it('should refuse a cut before the node has started', () => {
    const partition = new MeshPartition()
    return expect(partition.cut(['someone'])).rejects.toThrow(/not attached/)
  })
})
