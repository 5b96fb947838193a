// Daemons on loopback joined into one mesh with tokens, in one process: admission is a
// committed `peer.admit`, the joiner is caught up as a learner, and writes on it are forwarded.
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_POLICY, parseJoinToken } from '../../protocol/index.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'

const daemons: TestDaemon[] = []
afterEach(async () => {
  for (const daemon of daemons.splice(0).reverse()) await daemon.destroy()
})

async function founder(): Promise<TestDaemon> {
  const daemon = await startTestDaemon({ executor: false })
  daemons.push(daemon)
  return daemon
}

/** `HOST:PORT` of the daemon's peer-to-peer TCP listener. */
function p2pAddress(daemon: TestDaemon): string {
  const tcp = daemon.daemon.p2pAddresses.find((address) => !address.includes('/ws'))
  const match = /\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(tcp ?? '')
  if (match === null) throw new Error(`no TCP address in ${daemon.daemon.p2pAddresses.join(' ')}`)
  return `${match[1]}:${match[2]}`
}

async function joiner(member: TestDaemon, token: string): Promise<TestDaemon> {
  const daemon = await startTestDaemon({
    executor: false,
    join: { address: p2pAddress(member), token },
  })
  daemons.push(daemon)
  return daemon
}

describe('Joining a mesh', () => {
  it('should admit the joiner and replicate the mesh to it when its token is good', async () => {
    const a = await founder()
    const { token } = await a.call('mesh.token', { role: 'executor' })
    const b = await joiner(a, token)
    const peerB = b.daemon.peerId
    expect(a.daemon.ledgerState().peers.get(peerB)).toMatchObject({ owner: peerB })
    const infoA = await a.call('mesh.info', {})
    expect((await b.call('mesh.info', {})).meshId).toBe(infoA.meshId)
    // The joiner's owner got the join grant once, and B reads it (ReadIndex through A).
    expect((await b.call('account.balance', {})).balanceMc).toBe(DEFAULT_POLICY.joinGrantMc)
    expect(b.daemon.ledgerState().peers.has(a.daemon.peerId)).toBe(true)
  })

  it('should refuse the join and start nothing when the token was rotated away', async () => {
    const a = await founder()
    const { token } = await a.call('mesh.token', { role: 'executor' })
    await a.call('mesh.token', { role: 'executor', rotate: true })
    await expect(joiner(a, token)).rejects.toThrow(/rotate/)
    expect(a.daemon.ledgerState().peers.size).toBe(1)
    expect(parseJoinToken(token).issuer).toBe(a.daemon.peerId)
  })

  it('should rejoin with no flags when a joined peer restarts', async () => {
    const a = await founder()
    const { token } = await a.call('mesh.token', { role: 'voter' })
    const b = await joiner(a, token)
    const restarted = await b.restart()
    daemons[daemons.indexOf(b)] = restarted
    const index = a.daemon.ledgerState().appliedIndex
    expect((await restarted.call('mesh.info', {})).meshId).toBe(
      (await a.call('mesh.info', {})).meshId,
    )
    expect(restarted.daemon.ledgerState().appliedIndex).toBeGreaterThanOrEqual(index)
  })

  it('should replicate to its learner again when the founder restarts at a new port', async () => {
    const a = await founder()
    const { token } = await a.call('mesh.token', { role: 'executor' })
    const b = await joiner(a, token)
    const restarted = await a.restart()
    daemons[daemons.indexOf(a)] = restarted
    // A write on the founder reaches the learner, whose address A knows only from the log.
    await restarted.call('mesh.token', { role: 'executor', rotate: true })
    const index = restarted.daemon.ledgerState().appliedIndex
    const deadline = Date.now() + 10_000
    while (b.daemon.ledgerState().appliedIndex < index && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(b.daemon.ledgerState().appliedIndex).toBeGreaterThanOrEqual(index)
    expect(b.daemon.ledgerState().peers.get(restarted.daemon.peerId)?.addresses).toEqual(
      restarted.daemon.p2pAddresses,
    )
  })
})
