import { describe, expect, it } from 'vitest'
import { encodeProposal } from './proposal.ts'
import type { Proposal } from './proposal.ts'
import { Replica } from './replica.ts'

const LOG_TIME_MS = 1_800_000_000_000

function proposal(id: string, command: Proposal['command']): Uint8Array {
  return encodeProposal({ id, logTime: LOG_TIME_MS, command })
}

describe('Replica', () => {
  it('should report a violation when a proposal is applied twice', () => {
    const replica = new Replica()
    const data = proposal('p1', { type: 'account.open', account: 'alice' })
    expect(replica.apply(1, data).violation).toBeUndefined()
    expect(replica.apply(2, data).violation).toMatch(/exactly once: proposal p1/)
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
