import { describe, expect, it } from 'vitest'
import { encodeProposal } from './proposal.ts'
import type { Proposal } from './proposal.ts'
import { Replica } from './replica.ts'

const LOG_TIME_MS = 1_800_000_000_000

function proposal(id: string, command: Proposal['command']): Uint8Array {
  return encodeProposal({ id, proposedAt: LOG_TIME_MS, logTime: LOG_TIME_MS, command })
}

/** Two proposals that set different job minimums. */
function policies(replica: Replica): [Uint8Array, Uint8Array] {
  const policy = replica.ledger.policy
  return [
    proposal('p1', { type: 'policy.set', policy: { ...policy, jobMinimumMc: 500 } }),
    proposal('p2', { type: 'policy.set', policy: { ...policy, jobMinimumMc: 1500 } }),
  ]
}

describe('Replica', () => {
  it('should take a retried proposal once when it arrives after another change', () => {
    const replica = new Replica()
    const [first, second] = policies(replica)
    expect(replica.apply(1, first).violation).toBeUndefined()
    expect(replica.apply(2, second).violation).toBeUndefined()
    // A client's retry of p1 arrives after p2: the ledger knows p1 and leaves p2 in force.
    expect(replica.apply(3, first).violation).toBeUndefined()
    expect(replica.ledger.policy.jobMinimumMc).toBe(1500)
  })

  it('should report a violation when proposal ids are stripped and a retry changes the ledger', () => {
    const replica = new Replica({ stripProposalIds: true })
    const [first, second] = policies(replica)
    expect(replica.apply(1, first).violation).toBeUndefined()
    expect(replica.apply(2, second).violation).toBeUndefined()
    expect(replica.apply(3, first).violation).toMatch(
      /exactly once: proposal p1 changed the ledger/,
    )
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
