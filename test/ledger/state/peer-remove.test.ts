// `peer.remove`: a peer leaves the mesh for good (`gridx leave`). It is no longer admitted, its
// executor takes no more jobs, and the jobs it held go back to the queue at no charge.
import { describe, expect, it } from 'vitest'
import { DEFAULT_POLICY } from '../../../protocol/index.ts'
import { decodeState, encodeState, ledgerViolations } from '../../../ledger/state/index.ts'
import type { Command } from '../../../ledger/state/index.ts'
import { Ledger, cheapSpec, succeeded } from './ledger-fixture.ts'

const genesis: Command = {
  type: 'mesh.genesis',
  meshId: 'mesh-test',
  policy: DEFAULT_POLICY,
  founder: 'peer-founder',
  owner: 'owner-founder',
  voterTarget: 3,
  secrets: { voter: '1'.repeat(64), executor: '2'.repeat(64) },
}

const admit = (peer: string, owner: string): Command => ({
  type: 'peer.admit',
  peer,
  owner,
  roles: ['executor'],
})

const remove = (peer: string): Command => ({ type: 'peer.remove', peer })

function meshOfTwo(): Ledger {
  const ledger = new Ledger()
  ledger.ok(genesis)
  ledger.ok(admit('peer-b', 'owner-b'))
  ledger.register('peer-b', 'owner-b')
  return ledger
}

describe('peer.remove', () => {
  it('should take the peer out of the admitted peers and the executors when it leaves', () => {
    const ledger = meshOfTwo()
    const grant = ledger.balance('owner-b')
    ledger.ok(remove('peer-b'))
    expect(ledger.state.peers.has('peer-b')).toBe(false)
    expect(ledger.state.executors.has('peer-b')).toBe(false)
    // The owner keeps its account and its credits: they are not the peer's.
    expect(ledger.balance('owner-b')).toBe(grant)
    const restored = decodeState(encodeState(ledger.state))
    expect(restored.peers.has('peer-b')).toBe(false)
    expect(ledger.state.peers.has('peer-founder')).toBe(true)
  })

  it('should requeue the jobs of the leaving executor at no charge when it held some', () => {
    const ledger = meshOfTwo()
    ledger.open('alice')
    const before = ledger.balance('alice')
    ledger.submit('job-running', 'alice', cheapSpec())
    ledger.submit('job-assigned', 'alice', cheapSpec())
    ledger.submit('job-done', 'alice', cheapSpec())
    const doneFence = ledger.assign('job-done', 'peer-b')
    ledger.start('job-done', doneFence)
    ledger.finish('job-done', doneFence, succeeded(1000))
    const fence = ledger.assign('job-running', 'peer-b')
    ledger.start('job-running', fence)
    ledger.assign('job-assigned', 'peer-b')
    ledger.ok(remove('peer-b'))
    // The entry names no job, yet it moved two: what watches jobs learns which from the state.
    expect([...ledger.state.changedJobs].sort()).toEqual(['job-assigned', 'job-running'])
    for (const id of ['job-running', 'job-assigned']) {
      expect(ledger.job(id)).toMatchObject({ state: 'queued', executor: null, fence: null })
      expect(ledger.job(id).events.at(-2)).toMatchObject({ state: 'lost' })
    }
    expect(ledger.job('job-done').state).toBe('succeeded')
    // Both go to the front, the oldest first: they have waited longest.
    expect(ledger.state.queue).toEqual(['job-running', 'job-assigned'])
    // Only the finished job was paid for; the requeued ones still hold their escrow.
    const donePrice = ledger.job('job-done').priceMc ?? NaN
    const escrowed = ledger.state.accounts.get('alice')?.escrowedMc ?? NaN
    expect(ledger.balance('alice') + escrowed).toBe(before - donePrice)
    expect(ledger.job('job-running').escrowHeld).toBe(true)
    expect(ledgerViolations(ledger.state)).toEqual([])
    // A report the leaving executor sends late carries a stale fence and changes nothing.
    expect(ledger.finish('job-running', fence, succeeded(1000))).toMatchObject({ ok: false })
  })

  it('should refuse a peer that is not admitted and change nothing', () => {
    const ledger = meshOfTwo()
    expect(ledger.refused(remove('peer-stranger')).name).toBe('NOT_FOUND')
    ledger.ok(remove('peer-b'))
    expect(ledger.refused(remove('peer-b')).name).toBe('NOT_FOUND')
  })

  it('should refuse the last admitted peer when no other is left to hold the mesh', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    expect(ledger.refused(remove('peer-founder')).name).toBe('INVALID_STATE')
    expect(ledger.state.peers.has('peer-founder')).toBe(true)
  })

  it('should admit the peer again with no second grant when it rejoins with a token', () => {
    const ledger = meshOfTwo()
    const grant = ledger.balance('owner-b')
    ledger.ok(remove('peer-b'))
    ledger.ok(admit('peer-b', 'owner-b'))
    expect(ledger.state.peers.has('peer-b')).toBe(true)
    expect(ledger.balance('owner-b')).toBe(grant)
  })
})
