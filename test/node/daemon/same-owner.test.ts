// Joining under one owner (`gridx token --same-owner`): the joiner is admitted with the issuing
// peer's owner account, so one user's API tokens on either machine act as the same account.
import { afterEach, describe, expect, it } from 'vitest'
import { formatJoinToken, parseJoinToken } from '../../../protocol/index.ts'
import { startTestDaemon } from '../../fixtures/daemon.ts'
import type { TestDaemon } from '../../fixtures/daemon.ts'

const daemons: TestDaemon[] = []
afterEach(async () => {
  for (const daemon of daemons.splice(0).reverse()) await daemon.destroy()
})

async function start(
  join?: { member: TestDaemon; token: string },
  executor = false,
): Promise<TestDaemon> {
  const daemon = await startTestDaemon({
    executor,
    ...(join === undefined
      ? {}
      : { join: { address: p2pAddress(join.member), token: join.token } }),
  })
  daemons.push(daemon)
  return daemon
}

function p2pAddress(daemon: TestDaemon): string {
  const tcp = daemon.daemon.p2pAddresses.find((address) => !address.includes('/ws'))
  const match = /\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(tcp ?? '')
  if (match === null) throw new Error(`no TCP address in ${daemon.daemon.p2pAddresses.join(' ')}`)
  return `${match[1]}:${match[2]}`
}

describe('Joining under the same owner', () => {
  it('should admit the joiner with the issuer’s owner when its token is same-owner', async () => {
    const a = await start(undefined, true)
    const { token } = await a.call('mesh.token', { role: 'executor', sameOwner: true })
    expect(parseJoinToken(token)).toMatchObject({ sameOwner: true, issuer: a.daemon.peerId })
    const c = await start({ member: a, token })
    const owner = a.daemon.peerId
    expect(a.daemon.ledgerState().peers.get(c.daemon.peerId)?.owner).toBe(owner)
    expect((await c.call('mesh.info', {})).owner).toBe(owner)
    // C's API token is the owner's account: it sees and cancels a job submitted on A.
    const { job } = await a.call('job.submit', {
      idempotencyId: 'same-owner-1',
      spec: { runtime: 'bash', code: 'sleep 30' },
    })
    expect((await c.call('job.get', { id: job.id })).id).toBe(job.id)
    expect((await c.call('job.cancel', { id: job.id, idempotencyId: 'c-1' })).state).toBe(
      'cancelled',
    )
    expect(await c.call('account.balance', {})).toEqual(await a.call('account.balance', {}))
    // No account of C's own was opened or granted.
    expect(a.daemon.ledgerState().accounts.has(c.daemon.peerId)).toBe(false)
    const peers = (await c.call('mesh.peers', {})).peers
    expect(peers.find((peer) => peer.peerId === c.daemon.peerId)?.owner).toBe(owner)
  })

  it('should let the joiner be its own owner when its token is not same-owner', async () => {
    const a = await start()
    const { token } = await a.call('mesh.token', { role: 'executor' })
    const b = await start({ member: a, token })
    expect((await b.call('mesh.info', {})).owner).toBe(b.daemon.peerId)
  })

  it('should refuse the join with a named error when the same-owner secret is wrong', async () => {
    const a = await start()
    // The mesh's executor secret marked as same-owner: no peer issued it for its owner.
    const plain = parseJoinToken((await a.call('mesh.token', { role: 'executor' })).token)
    const forged = formatJoinToken({ ...plain, sameOwner: true })
    await expect(start({ member: a, token: forged })).rejects.toMatchObject({
      code: 'WRONG_OWNER_SECRET',
    })
    expect(a.daemon.ledgerState().peers.size).toBe(1)
  })

  it('should refuse a rotated same-owner token and keep the other role’s', async () => {
    const a = await start()
    const old = (await a.call('mesh.token', { role: 'executor', sameOwner: true })).token
    const voter = (await a.call('mesh.token', { role: 'voter', sameOwner: true })).token
    const rotated = await a.call('mesh.token', { role: 'executor', sameOwner: true, rotate: true })
    expect(rotated.token).not.toBe(old)
    await expect(start({ member: a, token: old })).rejects.toMatchObject({ code: 'ROTATED' })
    // Printed again, the tokens are the same ones: nothing rotates by itself.
    expect((await a.call('mesh.token', { role: 'voter', sameOwner: true })).token).toBe(voter)
    expect((await a.call('mesh.token', { role: 'executor', sameOwner: true })).token).toBe(
      rotated.token,
    )
  })
})
