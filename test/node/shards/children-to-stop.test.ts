import { describe, expect, it } from 'vitest'
import { SHARD_RETRIES_MAX } from '../../../protocol/index.ts'
import { childrenToStop } from '../../../node/shards/index.ts'
import type { Command } from '../../../ledger/state/index.ts'
import { cheapSpec, codeFailure, Ledger } from '../../ledger/state/ledger-fixture.ts'
import { started } from '../../fixtures/parent-ledger.ts'

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

function sharded(): Ledger {
  const ledger = new Ledger().open('alice').open('bob').register('peer-1', 'bob')
  ledger.ok({
    type: 'parent.submit',
    parentId: 'jparent1',
    submitter: 'alice',
    idempotencyId: 'p1',
    spec: cheapSpec(),
    shards: Array.from({ length: 3 }, () => [{ name: 'shard', cid: CID, size: 1 }]),
    reduceCode: null,
  })
  return ledger
}

describe('childrenToStop', () => {
  it('should name the children given to executors when the parent is cancelled', () => {
    const ledger = sharded()
    started(ledger, 'jparent1s0')
    ledger.assign('jparent1s1', 'peer-1')
    const command: Command = { type: 'parent.cancel', parentId: 'jparent1', by: 'alice' }
    expect(childrenToStop(ledger.state, command)).toEqual([])
    ledger.ok(command)
    // The queued shard 2 runs nowhere: there is nothing to stop.
    expect(childrenToStop(ledger.state, command)).toEqual(['jparent1s0', 'jparent1s1'])
  })

  it('should name the running siblings when a shard fails past its retries', () => {
    const ledger = sharded()
    started(ledger, 'jparent1s1')
    let id = 'jparent1s0'
    let command: Command | undefined
    for (let run = 0; run <= SHARD_RETRIES_MAX; run++) {
      const fence = started(ledger, id)
      command = { type: 'job.finish', jobId: id, fence, outcome: codeFailure('exit', 10) }
      ledger.ok(command)
      if (run < SHARD_RETRIES_MAX) expect(childrenToStop(ledger.state, command)).toEqual([])
      id = `jparent1s0r${run + 1}`
    }
    expect(childrenToStop(ledger.state, command!)).toEqual(['jparent1s1'])
  })

  it('should name nothing for a job that has no parent', () => {
    const ledger = sharded()
    ledger.submit('jalone01', 'alice', cheapSpec())
    const command: Command = { type: 'job.cancel', jobId: 'jalone01', by: 'alice' }
    ledger.ok(command)
    expect(childrenToStop(ledger.state, command)).toEqual([])
  })
})
