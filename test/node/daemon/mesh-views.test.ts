// `mesh.info` and `mesh.peers` on a peer that is not the coordinator: every admitted peer from
// the replicated state, with the coordinator's view of health and heartbeats fetched from it,
// and, when it cannot be asked, a plain "not known here" instead of a false "unhealthy".
import { afterEach, describe, expect, it } from 'vitest'
import { startTestDaemon } from '../../fixtures/daemon.ts'
import type { TestDaemon } from '../../fixtures/daemon.ts'

const daemons: TestDaemon[] = []
afterEach(async () => {
  for (const daemon of daemons.splice(0).reverse()) await daemon.destroy()
})

function p2pAddress(daemon: TestDaemon): string {
  const tcp = daemon.daemon.p2pAddresses.find((address) => !address.includes('/ws'))
  const match = /\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(tcp ?? '')
  if (match === null) throw new Error(`no TCP address in ${daemon.daemon.p2pAddresses.join(' ')}`)
  return `${match[1]}:${match[2]}`
}

async function pair(): Promise<{ a: TestDaemon; b: TestDaemon }> {
  const a = await startTestDaemon({ executor: true })
  daemons.push(a)
  const { token } = await a.call('mesh.token', { role: 'executor' })
  const b = await startTestDaemon({ executor: false, join: { address: p2pAddress(a), token } })
  daemons.push(b)
  return { a, b }
}

describe('Mesh views on a follower', () => {
  it('should show the coordinator’s health and heartbeats when it answers', async () => {
    const { a, b } = await pair()
    const peerA = a.daemon.peerId
    const peerB = b.daemon.peerId
    await expect
      .poll(async () => (await b.call('mesh.info', {})).members?.map((m) => m.healthy), {
        timeout: 20_000,
      })
      .toEqual([true, true])
    const info = await b.call('mesh.info', {})
    expect(info.membersUnknown).toBeUndefined()
    expect(info.members?.map((member) => member.peerId)).toEqual([peerA, peerB])
    const { peers, executorsUnknown } = await b.call('mesh.peers', {})
    expect(executorsUnknown).toBeUndefined()
    expect(peers.map((peer) => [peer.peerId, peer.self])).toEqual([
      [peerB, true],
      [peerA, false],
    ])
    const onB = peers[1]
    expect(onB?.roles).toEqual(['peer', 'voter', 'coordinator', 'executor'])
    expect(onB?.capacity?.cpus).toBeGreaterThan(0)
    expect(onB?.lastHeartbeatMs).toEqual(expect.any(Number))
    expect(peers[0]?.lastHeartbeatMs).toBeNull()
  }, 60_000)

  it('should say the view is not known here when the coordinator is gone', async () => {
    const { a, b } = await pair()
    await a.stop()
    daemons.splice(daemons.indexOf(a), 1)
    const info = await b.call('mesh.info', {})
    expect(info.membersUnknown).toMatch(/coordinator|election/)
    const { peers, executorsUnknown } = await b.call('mesh.peers', {})
    expect(executorsUnknown).toMatch(/coordinator|election/)
    expect(peers.map((peer) => peer.peerId)).toEqual([b.daemon.peerId, a.daemon.peerId])
    expect(peers[1]).not.toHaveProperty('lastHeartbeatMs')
  }, 60_000)
})
