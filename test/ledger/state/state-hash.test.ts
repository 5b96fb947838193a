import { describe, expect, it } from 'vitest'
import { decodeState, encodeState, stateHash } from '../../../ledger/state/index.ts'
import { Ledger, spec, succeeded } from './ledger-fixture.ts'

function ranOneJob(): Ledger {
  const ledger = new Ledger().open('alice').open('bob').register('peer-1', 'bob')
  const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec())
  ledger.advance(1_000).finish('j000001', fence, succeeded(900))
  ledger.submit('j000002', 'alice', spec())
  return ledger
}

describe('state hash', () => {
  it('should be 64 hex digits of sha-256 when a state is hashed', () => {
    expect(stateHash(ranOneJob().state)).toMatch(/^[0-9a-f]{64}$/)
  })

  it('should be equal when two replicas applied the same entries', () => {
    expect(stateHash(ranOneJob().state)).toBe(stateHash(ranOneJob().state))
  })

  it('should be equal when a replica restored the state from a snapshot', () => {
    const ledger = ranOneJob()
    expect(stateHash(decodeState(encodeState(ledger.state)))).toBe(stateHash(ledger.state))
  })

  it('should not depend on key order when an object was built in another order', () => {
    const ledger = ranOneJob()
    const other = decodeState(encodeState(ledger.state))
    const account = other.accounts.get('alice')
    if (account === undefined) throw new Error('no alice')
    const { balanceMc, escrowedMc, transfers } = account
    other.accounts.set('alice', { transfers, escrowedMc, balanceMc })
    expect(encodeState(other)).not.toBe(encodeState(ledger.state))
    expect(stateHash(other)).toBe(stateHash(ledger.state))
  })

  it('should differ when one more entry is applied', () => {
    const ledger = ranOneJob()
    const before = stateHash(ledger.state)
    ledger.open('carol')
    expect(stateHash(ledger.state)).not.toBe(before)
  })

  it('should differ when only the applied index differs', () => {
    const ledger = ranOneJob()
    const other = decodeState(encodeState(ledger.state))
    other.appliedIndex += 1
    expect(stateHash(other)).not.toBe(stateHash(ledger.state))
  })
})
