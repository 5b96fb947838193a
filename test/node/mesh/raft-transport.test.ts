// The Raft transport between real libp2p nodes on loopback.
import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { raft } from '../../../ledger/index.ts'
import { RAFT_PROTOCOL, RAFT_SNAPSHOT_CHUNK_BYTES } from '../../../protocol/index.ts'
import { appendMessage, meshTogether, raftStreams, startRaftPeer } from './raft-peers.ts'
import type { RaftPeer } from './raft-peers.ts'

const peers: RaftPeer[] = []

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.node.stop()))
})

async function start(count: number): Promise<RaftPeer[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startRaftPeer()))
  peers.push(...started)
  await meshTogether(started)
  return started
}

describe('raft transport', () => {
  it('should keep one stream per direction of each pair when 1,000 messages cross', async () => {
    const trio = await start(3)
    const count = 1000
    for (let index = 1; index <= count; index++) {
      for (const from of trio) {
        from.transport.send(
          trio.filter((to) => to !== from).map((to) => appendMessage(from, to, index)),
        )
      }
    }
    await expect
      .poll(() => trio.map((peer) => peer.received.length), { timeout: 20_000 })
      .toEqual([2 * count, 2 * count, 2 * count])
    for (const to of trio) {
      for (const from of trio.filter((peer) => peer !== to)) {
        const indexes = to.received
          .filter((message) => message.from === from.id)
          .map((message) => message.entries[0]?.index)
        expect(indexes).toEqual(Array.from({ length: count }, (_, at) => at + 1))
        expect(raftStreams(from, to, 'outbound')).toHaveLength(1)
        expect(raftStreams(to, from, 'inbound')).toHaveLength(1)
        expect(from.transport.stats(to.id)).toMatchObject({ streamsOpened: 1, dropped: 0 })
      }
    }
    const WARN = 40
    expect(trio.flatMap((peer) => peer.log.filter((line) => line.level >= WARN))).toEqual([])
  })

  it('should open a stream to a warmed peer and reopen it when nothing was sent', async () => {
    const [voter, other] = (await start(2)) as [RaftPeer, RaftPeer]
    voter.transport.warm(other.id)
    await expect.poll(() => raftStreams(voter, other, 'outbound').length).toBe(1)
    expect(voter.transport.stats(other.id)).toMatchObject({ sent: 0, streamsOpened: 1 })
    // Broken from the far side: a warm link opens another, still with nothing to send.
    for (const stream of raftStreams(other, voter, 'inbound')) stream.abort(new Error('cut'))
    await expect
      .poll(() => voter.transport.stats(other.id)?.streamsOpened, { timeout: 10_000 })
      .toBe(2)
    expect(voter.transport.stats(other.id)).toMatchObject({ sent: 0, connected: true })
  })
})

describe('raft transport snapshots', () => {
  function snapshotMessage(from: RaftPeer, to: RaftPeer, bytes: number): raft.Message {
    const data = new Uint8Array(bytes).map((_, at) => at % 251)
    const metadata = { index: 40, term: 3, confState: { voters: [from.id, to.id], learners: [] } }
    return {
      ...appendMessage(from, to, 1),
      type: 'snapshot',
      entries: [],
      snapshot: { metadata, data },
    }
  }

  it('should report a snapshot delivered only after the receiver persisted it', async () => {
    const [leader, follower] = (await start(2)) as [RaftPeer, RaftPeer]
    const persisted = Promise.withResolvers<void>()
    const stepped = Promise.withResolvers<raft.Message>()
    follower.onMessage = (message) => {
      stepped.resolve(message)
      return persisted.promise
    }
    const sent = snapshotMessage(leader, follower, 5 * RAFT_SNAPSHOT_CHUNK_BYTES + 17)
    leader.transport.send([sent])
    const received = await stepped.promise
    // Compared as buffers: a deep equality over 5 MiB element by element takes seconds.
    const none = new Uint8Array(0)
    expect(Buffer.from(received.snapshot?.data ?? none).equals(sent.snapshot?.data ?? none)).toBe(
      true,
    )
    expect({ ...received, snapshot: received.snapshot?.metadata }).toEqual({
      ...sent,
      snapshot: sent.snapshot?.metadata,
    })
    // The follower holds the snapshot but has not persisted it: the leader must not know yet.
    // A negative cannot be awaited; 200 ms is many loopback round trips for an early ack.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(leader.snapshotStatus).toEqual([])
    persisted.resolve()
    await expect.poll(() => leader.snapshotStatus).toEqual([{ to: follower.id, delivered: true }])
  })

  it('should report a snapshot undelivered when the receiver fails to persist it', async () => {
    const [leader, follower] = (await start(2)) as [RaftPeer, RaftPeer]
    follower.onMessage = () => Promise.reject(new Error('disk full'))
    leader.transport.send([snapshotMessage(leader, follower, 1000)])
    await expect.poll(() => leader.snapshotStatus).toEqual([{ to: follower.id, delivered: false }])
  })

  it('should report a snapshot undelivered when no acknowledgement comes in time', async () => {
    const limits = { snapshotAckTimeoutMs: 300 }
    const [leader, follower] = await Promise.all([startRaftPeer({ limits }), startRaftPeer()])
    peers.push(leader, follower)
    await meshTogether([leader, follower])
    follower.onMessage = () => new Promise<void>(() => undefined)
    leader.transport.send([snapshotMessage(leader, follower, 1000)])
    await expect.poll(() => leader.snapshotStatus).toEqual([{ to: follower.id, delivered: false }])
    expect(leader.log.filter((line) => line.msg === 'snapshot not acknowledged')).toHaveLength(1)
  })

  it('should report a dropped snapshot only after send returned when one is queued', async () => {
    const [leader, follower] = (await start(2)) as [RaftPeer, RaftPeer]
    let sending = false
    const calledDuringSend: boolean[] = []
    leader.transport.listen({
      onMessage: () => Promise.resolve(),
      onSnapshotStatus: () => void calledDuringSend.push(sending),
    })
    sending = true
    // The second is refused at once: one snapshot per peer is queued or in flight at a time.
    leader.transport.send([
      snapshotMessage(leader, follower, 10),
      snapshotMessage(leader, follower, 10),
    ])
    sending = false
    await expect.poll(() => calledDuringSend.length).toBeGreaterThanOrEqual(1)
    expect(calledDuringSend[0]).toBe(false)
  })

  it('should send a snapshot in frames no larger than a chunk when it is large', async () => {
    const [leader, follower] = (await start(2)) as [RaftPeer, RaftPeer]
    const frames = await recordFrames(follower)
    leader.transport.send([snapshotMessage(leader, follower, 3 * RAFT_SNAPSHOT_CHUNK_BYTES)])
    await expect.poll(() => frames.length).toBeGreaterThanOrEqual(4)
    expect(Math.max(...frames)).toBeLessThanOrEqual(RAFT_SNAPSHOT_CHUNK_BYTES + 6)
  })
})

/** Replaces a peer's Raft handler with one that records the size of each frame it reads. */
async function recordFrames(peer: RaftPeer): Promise<number[]> {
  const sizes: number[] = []
  await peer.node.handle(
    RAFT_PROTOCOL,
    async (stream) => {
      const lp = lpStream(stream, { maxDataLength: 64 * RAFT_SNAPSHOT_CHUNK_BYTES })
      for (;;) sizes.push((await lp.read()).byteLength)
    },
    { force: true },
  )
  return sizes
}

describe('raft transport addressing', () => {
  it('should drop a message without throwing when its peer is not a PeerId', async () => {
    const [leader, follower] = (await start(2)) as [RaftPeer, RaftPeer]
    const stray = { ...appendMessage(leader, follower, 1), to: 'node-2' }
    expect(() => leader.transport.send([stray])).not.toThrow()
    expect(
      leader.log.filter((line) => line.msg === 'raft message to a peer that is not a PeerId'),
    ).toHaveLength(1)
  })

  it('should close the stream and forget the queue when a peer is removed', async () => {
    const [leader, follower] = (await start(2)) as [RaftPeer, RaftPeer]
    leader.transport.send([appendMessage(leader, follower, 1)])
    await expect.poll(() => follower.received.length).toBe(1)
    await leader.transport.removePeer(follower.id)
    expect(leader.transport.stats(follower.id)).toBeUndefined()
    await expect.poll(() => raftStreams(leader, follower, 'outbound').length).toBe(0)
  })
})
