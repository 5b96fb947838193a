// Connection gaters between real libp2p nodes on loopback: strangers get a join window and no
// more, and a test can cut a peer off from others and heal the cut.
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import {
  admissionGate,
  combineGaters,
  denyPeers,
  generateJoinSecret,
  hashJoinSecret,
  joinMesh,
  joinService,
  judgeJoinSecret,
} from '../../../node/mesh/index.ts'
import { formatJoinToken } from '../../../protocol/index.ts'
import { appendMessage, meshTogether, startRaftPeer } from './raft-peers.ts'
import type { LogLine, RaftPeer } from './raft-peers.ts'

const stoppable: { stop(): void | Promise<void> }[] = []

afterEach(async () => {
  await Promise.all(stoppable.splice(0).map((node) => node.stop()))
})

async function bareNode(): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  stoppable.push(node)
  return node
}

async function raftPeer(options: Parameters<typeof startRaftPeer>[0]): Promise<RaftPeer> {
  const peer = await startRaftPeer(options)
  stoppable.push(peer.node)
  return peer
}

describe('admission gate', () => {
  it('should close a stranger after the join window when it was not admitted', async () => {
    const admitted = new Set<string>()
    const log: LogLine[] = []
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void log.push(JSON.parse(line)) },
    )
    const gate = admissionGate({
      isAdmitted: (peer) => admitted.has(peer),
      logger,
      joinWindowMs: 300,
    })
    const member = await raftPeer({ connectionGater: gate })
    const [stranger, friend, late] = await Promise.all([bareNode(), bareNode(), bareNode()])
    admitted.add(friend.peerId.toString())
    for (const node of [stranger, friend, late]) await node.dial(member.node.getMultiaddrs())
    // Admitted within its window, `late` keeps its connection like `friend`.
    admitted.add(late.peerId.toString())
    await expect.poll(() => member.node.getConnections(stranger.peerId).length).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(member.node.getConnections(friend.peerId)).toHaveLength(1)
    expect(member.node.getConnections(late.peerId)).toHaveLength(1)
    expect(log.filter((line) => line.msg.includes('did not join in time'))).toMatchObject([
      { peer: stranger.peerId.toString() },
    ])
  })

  it('should refuse strangers beyond the bound when too many are in their window', async () => {
    const logger = pino({ level: 'silent' })
    const gate = admissionGate({ isAdmitted: () => false, logger, strangersMax: 1 })
    const member = await raftPeer({ connectionGater: gate })
    const [first, second] = await Promise.all([bareNode(), bareNode()])
    await first.dial(member.node.getMultiaddrs())
    // The dialer may finish its own upgrade before the member refuses: the connection it got
    // is closed by the member either way.
    try {
      await second.dial(member.node.getMultiaddrs())
    } catch (error) {
      expect(error).toBeInstanceOf(Error)
    }
    await expect.poll(() => second.getConnections(member.node.peerId).length).toBe(0)
    expect(member.node.getConnections(second.peerId)).toHaveLength(0)
    expect(member.node.getConnections(first.peerId)).toHaveLength(1)
  })
})

describe('admission gate with the join protocol', () => {
  it('should keep a joiner connected past the window when its join was admitted', async () => {
    const admitted = new Set<string>()
    const logger = pino({ level: 'silent' })
    const secret = generateJoinSecret()
    const hashes = { voter: hashJoinSecret(secret), executor: hashJoinSecret(generateJoinSecret()) }
    const member = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: admissionGate({
        isAdmitted: (peer) => admitted.has(peer),
        logger,
        joinWindowMs: 300,
      }),
      services: {
        join: joinService({
          meshId: () => 'mesh-gate',
          logger,
          admit: ({ peerId, role, secret: presented }) => {
            const code = judgeJoinSecret(presented, role, { ...hashes, rotated: [] })
            if (code !== undefined) return Promise.resolve({ accepted: false, code, message: code })
            admitted.add(peerId)
            return Promise.resolve({ accepted: true, members: [] })
          },
        }),
      },
    })
    stoppable.push(member)
    const joiner = await bareNode()
    const issuer = member.peerId.toString()
    const token = formatJoinToken({ role: 'voter', meshId: 'mesh-gate', issuer, secret })
    const port = member.getMultiaddrs()[0]?.toString().split('/')[4]
    await joinMesh(joiner, `127.0.0.1:${port}`, token, { owner: 'bob' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(member.getConnections(joiner.peerId)).toHaveLength(1)
  })
})

describe('partition gate', () => {
  it('should stop raft traffic when peers are cut off and resume it when healed', async () => {
    const cutAtA = new Set<string>()
    const cutAtB = new Set<string>()
    const gaterA = combineGaters(denyPeers(cutAtA))
    const limits = { backoffMsMax: 100 }
    const a = await raftPeer({ connectionGater: gaterA, limits })
    const b = await raftPeer({ connectionGater: denyPeers(cutAtB), limits })
    await meshTogether([a, b])
    a.transport.send([appendMessage(a, b, 1)])
    await expect.poll(() => b.received.length).toBe(1)

    cutAtA.add(b.id)
    cutAtB.add(a.id)
    await a.node.hangUp(b.node.peerId)
    await expect.poll(() => a.transport.stats(b.id)?.connected).toBe(false)
    a.transport.send([appendMessage(a, b, 2)])
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(b.received).toHaveLength(1)
    expect(a.node.getConnections(b.node.peerId)).toHaveLength(0)

    cutAtA.clear()
    cutAtB.clear()
    a.transport.send([appendMessage(a, b, 3)])
    await expect.poll(() => b.received.map((message) => message.entries[0]?.index)).toContain(3)
  })
})
