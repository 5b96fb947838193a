import { describe, expect, it } from 'vitest'
import { childrenToStop } from '../../../node/shards/index.ts'
import { dueRoundCloses } from '../../../node/training/index.ts'
import type { Command } from '../../../ledger/state/index.ts'
import { cheapSpec, Ledger, succeeded } from '../../ledger/state/ledger-fixture.ts'
import { started } from '../../fixtures/parent-ledger.ts'

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

function training(roundTimeoutS: number | null, minShards = 1): Ledger {
  const ledger = new Ledger().open('alice').open('bob').register('peer-1', 'bob')
  ledger.ok({
    type: 'training.submit',
    parentId: 'jtrain1',
    submitter: 'alice',
    idempotencyId: 't1',
    spec: cheapSpec(),
    shards: Array.from({ length: 3 }, () => [{ name: 'shard', cid: CID, size: 1 }]),
    aggregateCode: 'aggregate',
    rounds: 2,
    minShards,
    roundTimeoutS,
    aggregate: 'fedavg',
    samples: null,
  })
  return ledger
}

describe('dueRoundCloses', () => {
  it('should name a round only when its deadline has passed', () => {
    const ledger = training(5)
    const opened = ledger.now
    expect(dueRoundCloses(ledger.state, opened + 4999)).toEqual([])
    expect(dueRoundCloses(ledger.state, opened + 5000)).toEqual([
      { type: 'training.close-round', parentId: 'jtrain1', round: 1 },
    ])
  })

  it('should name nothing when the job has no deadline or has ended', () => {
    expect(dueRoundCloses(training(null).state, Number.MAX_SAFE_INTEGER)).toEqual([])
    const ledger = training(5)
    ledger.ok({ type: 'parent.cancel', parentId: 'jtrain1', by: 'alice' })
    expect(dueRoundCloses(ledger.state, Number.MAX_SAFE_INTEGER)).toEqual([])
  })
})

describe('childrenToStop of a round closed at its deadline', () => {
  it('should name the cut stragglers given to executors when the round aggregates', () => {
    const ledger = training(5)
    const fence = started(ledger, 'jtrain1t1s0')
    ledger.ok({ type: 'job.finish', jobId: 'jtrain1t1s0', fence, outcome: succeeded(100) })
    started(ledger, 'jtrain1t1s1')
    ledger.advance(5000)
    const close: Command = { type: 'training.close-round', parentId: 'jtrain1', round: 1 }
    ledger.ok(close)
    // Shard 2 was still queued: no executor holds it.
    expect(childrenToStop(ledger.state, close)).toEqual(['jtrain1t1s1'])
  })

  it('should name the cut stragglers when too few were in and the parent failed', () => {
    const ledger = training(5, 3)
    started(ledger, 'jtrain1t1s0')
    started(ledger, 'jtrain1t1s2')
    ledger.advance(5000)
    const close: Command = { type: 'training.close-round', parentId: 'jtrain1', round: 1 }
    ledger.ok(close)
    expect(ledger.state.parents.get('jtrain1')?.state).toBe('failed')
    expect(childrenToStop(ledger.state, close)).toEqual(['jtrain1t1s0', 'jtrain1t1s2'])
  })
})
