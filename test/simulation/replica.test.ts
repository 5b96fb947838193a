import { describe, expect, it } from 'vitest'
import { encodeProposal } from './proposal.ts'
import type { Proposal } from './proposal.ts'
import { Replica } from './replica.ts'

const LOG_TIME_MS = 1_800_000_000_000

function proposal(id: string, command: Proposal['command']): Uint8Array {
  return encodeProposal({ id, logTime: LOG_TIME_MS, command })
}

describe('Replica', () => {
  it('should report a violation when a repeated proposal changes the ledger again', () => {
    const replica = new Replica()
    const policy = replica.ledger.policy
    const first = proposal('p1', { type: 'policy.set', policy: { ...policy, jobMinimumMc: 500 } })
    const second = proposal('p2', { type: 'policy.set', policy: { ...policy, jobMinimumMc: 1500 } })
    expect(replica.apply(1, first).violation).toBeUndefined()
    expect(replica.apply(2, second).violation).toBeUndefined()
    // A client's retry of p1 arrives after p2: applied again, it would undo p2.
    expect(replica.apply(3, first).violation).toMatch(/exactly once: proposal p1 took effect/)
  })

  it('should accept a repeated proposal when it changes nothing', () => {
    const replica = new Replica()
    const data = proposal('p1', { type: 'account.open', account: 'alice' })
    expect(replica.apply(1, data).violation).toBeUndefined()
    expect(replica.apply(2, data).violation).toBeUndefined()
    expect(replica.ledger.appliedIndex).toBe(2)
  })

  it('should keep ledger indices equal to Raft indices when entries carry no command', () => {
    const replica = new Replica()
    replica.skip(1)
    replica.apply(2, proposal('p1', { type: 'account.open', account: 'dave' }))
    replica.apply(3, proposal('p2', { type: 'executor.register', peer: 'e1', owner: 'dave' }))
    expect(replica.ledger.appliedIndex).toBe(3)
  })

  it('should restore the same ledger and proposals when decoded from its snapshot', () => {
    const replica = new Replica()
    replica.apply(1, proposal('p1', { type: 'account.open', account: 'alice' }))
    const restored = Replica.decode(replica.encode())
    expect(restored.encodedState()).toBe(replica.encodedState())
    expect(restored.proposals.has('p1')).toBe(true)
  })
})
