// The mesh's replicated records: genesis (the first entry of a mesh), the join secrets' hashes
// and their rotation, and peer admission with its one-time grant to a new owner.
import { describe, expect, it } from 'vitest'
import { DEFAULT_POLICY, JOIN_ROTATED_HASHES_MAX } from '../../../protocol/index.ts'
import { decodeState, encodeState } from '../../../ledger/state/index.ts'
import type { Command } from '../../../ledger/state/index.ts'
import { Ledger } from './ledger-fixture.ts'

const hash = (n: number): string => n.toString(16).padStart(64, '0')

const genesis: Command = {
  type: 'mesh.genesis',
  meshId: 'mesh-test',
  policy: { ...DEFAULT_POLICY, executorSharePpm: 800_000 },
  founder: 'peer-founder',
  owner: 'owner-founder',
  voterTarget: 3,
  secrets: { voter: hash(1), executor: hash(2) },
}

const admit = (peer: string, owner: string): Command => ({
  type: 'peer.admit',
  peer,
  owner,
  roles: ['executor'],
})

describe('mesh records', () => {
  it('should found the mesh and admit its first voter when genesis is applied', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    expect(ledger.state.mesh).toEqual({
      meshId: 'mesh-test',
      founder: 'peer-founder',
      voterTarget: 3,
      secrets: { voter: hash(1), executor: hash(2), rotated: [] },
    })
    expect(ledger.state.policy.executorSharePpm).toBe(800_000)
    expect(ledger.state.peers.get('peer-founder')).toMatchObject({
      owner: 'owner-founder',
      roles: ['voter', 'executor'],
    })
    expect(ledger.state.accounts.get('owner-founder')?.balanceMc).toBe(DEFAULT_POLICY.joinGrantMc)
  })

  it('should refuse a second genesis and change nothing', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    expect(ledger.refused({ ...genesis, meshId: 'mesh-other' }).name).toBe('INVALID_STATE')
    expect(ledger.state.mesh?.meshId).toBe('mesh-test')
  })

  it('should refuse admission and rotation when the mesh has no genesis', () => {
    const ledger = new Ledger()
    expect(ledger.refused(admit('peer-b', 'owner-b')).name).toBe('INVALID_STATE')
    const rotate: Command = { type: 'mesh.rotate-secret', role: 'voter', hash: hash(3) }
    expect(ledger.refused(rotate).name).toBe('INVALID_STATE')
  })

  it('should grant a new owner once when two of its peers are admitted', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    ledger.ok(admit('peer-b', 'owner-b'))
    ledger.ok(admit('peer-c', 'owner-b'))
    ledger.ok(admit('peer-b', 'owner-b'))
    expect(ledger.state.accounts.get('owner-b')?.balanceMc).toBe(DEFAULT_POLICY.joinGrantMc)
    expect([...ledger.state.peers.keys()]).toEqual(['peer-founder', 'peer-b', 'peer-c'])
  })

  it('should keep the replaced hash as rotated when a secret is rotated', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    ledger.ok({ type: 'mesh.rotate-secret', role: 'executor', hash: hash(3) })
    expect(ledger.state.mesh?.secrets).toEqual({
      voter: hash(1),
      executor: hash(3),
      rotated: [hash(2)],
    })
  })

  it('should keep each issuer’s secret beside the mesh’s when a member issues its own', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    ledger.ok(admit('peer-b', 'owner-b'))
    ledger.ok({ type: 'mesh.rotate-secret', role: 'executor', hash: hash(3), issuer: 'peer-b' })
    // The founder's tokens stay good: only --rotate by their issuer replaces them.
    expect(ledger.state.mesh?.secrets).toEqual({ voter: hash(1), executor: hash(2), rotated: [] })
    expect(ledger.state.mesh?.issuerSecrets).toEqual([
      { issuer: 'peer-b', role: 'executor', hash: hash(3) },
    ])
    ledger.ok({ type: 'mesh.rotate-secret', role: 'executor', hash: hash(4), issuer: 'peer-b' })
    expect(ledger.state.mesh?.issuerSecrets).toEqual([
      { issuer: 'peer-b', role: 'executor', hash: hash(4) },
    ])
    expect(ledger.state.mesh?.secrets.rotated).toEqual([hash(3)])
    const stranger: Command = {
      type: 'mesh.rotate-secret',
      role: 'voter',
      hash: hash(5),
      issuer: 'peer-x',
    }
    expect(ledger.refused(stranger).name).toBe('NOT_FOUND')
  })

  it('should keep the newest rotated hashes only when rotations pass the bound', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    for (let i = 0; i < JOIN_ROTATED_HASHES_MAX + 5; i++) {
      ledger.ok({ type: 'mesh.rotate-secret', role: 'voter', hash: hash(100 + i) })
    }
    const rotated = ledger.state.mesh?.secrets.rotated ?? []
    expect(rotated.length).toBe(JOIN_ROTATED_HASHES_MAX)
    expect(rotated.at(-1)).toBe(hash(100 + JOIN_ROTATED_HASHES_MAX + 3))
  })

  it('should refuse a hash that is not 64 hex digits', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    const bad: Command = { type: 'mesh.rotate-secret', role: 'voter', hash: 'secret' }
    expect(ledger.refused(bad).name).toBe('INVALID_REQUEST')
  })

  it('should keep the mesh records when the state goes through a snapshot', () => {
    const ledger = new Ledger()
    ledger.ok(genesis)
    ledger.ok(admit('peer-b', 'owner-b'))
    const text = encodeState(ledger.state)
    const restored = decodeState(text)
    expect(encodeState(restored)).toBe(text)
    expect(restored.peers.get('peer-b')?.owner).toBe('owner-b')
    expect(restored.mesh?.meshId).toBe('mesh-test')
  })
})
