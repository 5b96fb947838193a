// `peer.address`: where an admitted peer listens, replicated so that every member (a restarted
// one included) can reach every other by PeerId.
import { describe, expect, it } from 'vitest'
import { DEFAULT_POLICY, JOIN_ADDRESSES_PER_MEMBER_MAX } from '../../../protocol/index.ts'
import { decodeState, encodeState } from '../../../ledger/state/index.ts'
import type { Command } from '../../../ledger/state/index.ts'
import { Ledger } from './ledger-fixture.ts'

const genesis: Command = {
  type: 'mesh.genesis',
  meshId: 'mesh-test',
  policy: DEFAULT_POLICY,
  founder: 'peer-founder',
  owner: 'owner-founder',
  voterTarget: 3,
  secrets: { voter: '1'.repeat(64), executor: '2'.repeat(64) },
}

const address = (peer: string, addresses: readonly string[]): Command => ({
  type: 'peer.address',
  peer,
  addresses,
})

describe('peer.address', () => {
  it('should record the addresses of an admitted peer and keep them in snapshots', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    ledger.ok(address('peer-founder', ['/ip4/127.0.0.2/tcp/4001']))
    expect(ledger.state.peers.get('peer-founder')?.addresses).toEqual(['/ip4/127.0.0.2/tcp/4001'])
    const restored = decodeState(encodeState(ledger.state))
    expect(restored.peers.get('peer-founder')?.addresses).toEqual(['/ip4/127.0.0.2/tcp/4001'])
  })

  it('should refuse the addresses of a peer that is not admitted and change nothing', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    expect(ledger.refused(address('peer-stranger', ['/ip4/127.0.0.9/tcp/4001'])).name).toBe(
      'NOT_FOUND',
    )
    expect(ledger.state.peers.has('peer-stranger')).toBe(false)
  })

  it('should refuse too many or too long addresses when a peer sends them', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    const many = Array.from({ length: JOIN_ADDRESSES_PER_MEMBER_MAX + 1 }, (_, at) => `/a/${at}`)
    expect(ledger.refused(address('peer-founder', many)).name).toBe('INVALID_REQUEST')
    expect(ledger.refused(address('peer-founder', ['/'.repeat(257)])).name).toBe('INVALID_REQUEST')
    expect(ledger.state.peers.get('peer-founder')?.addresses).toBeUndefined()
  })
})
