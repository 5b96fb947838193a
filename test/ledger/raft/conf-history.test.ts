import { describe, expect, it } from 'vitest'
import { bootstrapState, encodeConfChange } from '../../../ledger/raft/index.ts'
import type { ConfChange, Entry } from '../../../ledger/raft/index.ts'
import { ConfHistory } from '../../../ledger/raft/conf-history.ts'
import { RaftLog } from '../../../ledger/raft/raft-log.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/raft-memory-storage.ts'

function change(index: number, term: number, conf: ConfChange): Entry {
  return { index, term, type: 'conf-change', data: encodeConfChange(conf) }
}

/** A log founded by voters 1 and 2 (indexes 1 and 2), then a no-op and "add learner 3". */
function founded(): RaftLog {
  const storage = new MemoryRaftStorage()
  storage.apply({ ...bootstrapState({ voters: ['1', '2'], learners: [] }), snapshot: undefined })
  storage.append([
    { index: 3, term: 2, type: 'normal', data: new Uint8Array(0) },
    change(4, 2, { type: 'add-learner', node: '3' }),
  ])
  return new RaftLog(storage, {})
}

describe('ConfHistory', () => {
  it('should tell the membership as of each index when the log is scanned', () => {
    const log = founded()
    const history = new ConfHistory({ voters: [], learners: [] })
    expect(history.rescan(log, 1)).toEqual({ voters: ['1', '2'], learners: ['3'] })
    expect(history.at(0)).toEqual({ voters: [], learners: [] })
    expect(history.at(1)).toEqual({ voters: ['1'], learners: [] })
    expect(history.at(3)).toEqual({ voters: ['1', '2'], learners: [] })
    expect(history.at(9)).toEqual({ voters: ['1', '2'], learners: ['3'] })
    expect(history.lastIndex()).toBe(4)
  })

  it('should forget a conf change when the log is truncated below it', () => {
    const log = founded()
    const history = new ConfHistory({ voters: [], learners: [] })
    history.rescan(log, 1)
    log.append([change(4, 3, { type: 'remove-node', node: '2' })])
    expect(history.rescan(log, 4)).toEqual({ voters: ['1'], learners: [] })
    expect(history.at(3)).toEqual({ voters: ['1', '2'], learners: [] })
  })

  it('should answer with the snapshot membership when restored', () => {
    const history = new ConfHistory({ voters: [], learners: [] })
    history.rescan(founded(), 1)
    history.restore({ voters: ['2'], learners: [] })
    expect(history.at(2)).toEqual({ voters: ['2'], learners: [] })
    expect(history.lastIndex()).toBe(0)
  })
})
