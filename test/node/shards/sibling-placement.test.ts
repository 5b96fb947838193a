import { describe, expect, it } from 'vitest'
import { SiblingPlacement } from '../../../node/shards/index.ts'
import { cheapSpec, codeFailure, Ledger } from '../../ledger/state/ledger-fixture.ts'
import { runTo as finish } from '../../fixtures/parent-ledger.ts'

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

function sharded(shards: number): Ledger {
  const ledger = new Ledger().open('alice').open('bob')
  for (const peer of ['peer-1', 'peer-2', 'peer-3']) ledger.register(peer, 'bob')
  ledger.ok({
    type: 'parent.submit',
    parentId: 'jparent1',
    submitter: 'alice',
    idempotencyId: 'p1',
    spec: cheapSpec(),
    shards: Array.from({ length: shards }, () => [{ name: 'shard', cid: CID, size: 1 }]),
    reduceCode: null,
  })
  return ledger
}

describe('SiblingPlacement', () => {
  it('should weigh an executor by the siblings running there when a shard is placed', () => {
    const ledger = sharded(3)
    ledger.assign('jparent1s0', 'peer-1')
    const placement = new SiblingPlacement(ledger.state)
    const job = ledger.job('jparent1s1')
    expect(placement.penalty(job, 'peer-1')).toBe(1)
    expect(placement.penalty(job, 'peer-2')).toBe(0)
  })

  it('should count the placements of its own pass when the state does not show them yet', () => {
    const ledger = sharded(3)
    const placement = new SiblingPlacement(ledger.state)
    placement.placed(ledger.job('jparent1s0'), 'peer-2')
    expect(placement.penalty(ledger.job('jparent1s1'), 'peer-2')).toBe(1)
    expect(placement.penalty(ledger.job('jparent1s1'), 'peer-3')).toBe(0)
  })

  it('should keep a retried shard off the executor it failed on whatever the siblings', () => {
    const ledger = sharded(3)
    finish(ledger, 'jparent1s0', 'peer-1', codeFailure('exit', 10))
    ledger.assign('jparent1s1', 'peer-2')
    ledger.assign('jparent1s2', 'peer-2')
    const placement = new SiblingPlacement(ledger.state)
    const retry = ledger.job('jparent1s0r1')
    expect(placement.penalty(retry, 'peer-2')).toBe(2)
    expect(placement.penalty(retry, 'peer-1')).toBeGreaterThan(placement.penalty(retry, 'peer-2'))
  })

  it('should not weigh a job that has no parent', () => {
    const ledger = sharded(1)
    ledger.assign('jparent1s0', 'peer-1')
    ledger.submit('jalone01', 'alice', cheapSpec())
    const placement = new SiblingPlacement(ledger.state)
    expect(placement.penalty(ledger.job('jalone01'), 'peer-1')).toBe(0)
  })
})
