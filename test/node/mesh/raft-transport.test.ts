// The Raft transport between real libp2p nodes on loopback.
import { afterEach, describe, expect, it } from 'vitest'
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
  })
})
