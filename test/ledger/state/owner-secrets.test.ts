// Same-owner join secrets: a peer issues them for its owner account (`gridx token
// --same-owner`), the state keeps their hashes with the owner they admit as, and a rotation
// replaces them as it does the mesh's own secrets.
import { describe, expect, it } from 'vitest'
import { DEFAULT_POLICY } from '../../../protocol/index.ts'
import { decodeState, encodeState } from '../../../ledger/state/index.ts'
import type { Command } from '../../../ledger/state/index.ts'
import { Ledger } from './ledger-fixture.ts'

const hash = (n: number): string => n.toString(16).padStart(64, '0')

const genesis: Command = {
  type: 'mesh.genesis',
  meshId: 'mesh-test',
  policy: DEFAULT_POLICY,
  founder: 'peer-a',
  owner: 'owner-a',
  voterTarget: 1,
  secrets: { voter: hash(1), executor: hash(2) },
}

const rotate = (issuer: string, role: 'voter' | 'executor', n: number): Command => ({
  type: 'mesh.rotate-owner-secret',
  issuer,
  role,
  hash: hash(n),
})

describe('same-owner join secrets', () => {
  it('should record the hash with the issuer’s owner when a peer issues one', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    ledger.ok(rotate('peer-a', 'executor', 10))
    expect(ledger.state.mesh?.ownerSecrets).toEqual([
      { issuer: 'peer-a', owner: 'owner-a', role: 'executor', hash: hash(10) },
    ])
  })

  it('should replace the issuer’s hash and keep the old one as rotated when rotated', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    ledger.ok(rotate('peer-a', 'executor', 10))
    ledger.ok(rotate('peer-a', 'voter', 11))
    ledger.ok(rotate('peer-a', 'executor', 12))
    expect(ledger.state.mesh?.ownerSecrets).toEqual([
      { issuer: 'peer-a', owner: 'owner-a', role: 'voter', hash: hash(11) },
      { issuer: 'peer-a', owner: 'owner-a', role: 'executor', hash: hash(12) },
    ])
    expect(ledger.state.mesh?.secrets.rotated).toEqual([hash(10)])
    expect(ledger.state.mesh?.secrets.executor).toBe(hash(2))
  })

  it('should refuse a secret when its issuer is not an admitted peer', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    expect(ledger.refused(rotate('peer-stranger', 'executor', 10)).name).toBe('NOT_FOUND')
  })

  it('should refuse a secret when the mesh has no genesis or the hash is malformed', () => {
    const ledger = new Ledger()
    expect(ledger.refused(rotate('peer-a', 'executor', 10)).name).toBe('INVALID_STATE')
    ledger.ok(genesis)
    const bad: Command = {
      type: 'mesh.rotate-owner-secret',
      issuer: 'peer-a',
      role: 'voter',
      hash: 'x',
    }
    expect(ledger.refused(bad).name).toBe('INVALID_REQUEST')
  })

  it('should keep the same-owner hashes when the state goes through a snapshot', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    const before = encodeState(ledger.state)
    // A mesh that never issued one encodes as it did before the field existed.
    expect(before).not.toContain('ownerSecrets')
    ledger.ok(rotate('peer-a', 'voter', 10))
    const text = encodeState(ledger.state)
    expect(encodeState(decodeState(text))).toBe(text)
    expect(decodeState(text).mesh?.ownerSecrets?.[0]?.owner).toBe('owner-a')
  })
})
