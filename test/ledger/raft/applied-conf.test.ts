// Status.appliedConf is the membership as of the applied index, which a snapshot records. A
// driver with asynchronous writes steps messages between ready() and advance(); a snapshot
// that arrives then moves the log's start past the applied index, and the membership as of
// that index can no longer be read from the log (found by the simulator, seed 1236).
import { describe, expect, it } from 'vitest'
import {
  EMPTY_BYTES,
  RawNode,
  SeededRandom,
  bootstrapState,
  message,
} from '../../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/raft-memory-storage.ts'

const FOUNDING = { voters: ['1', '2'], learners: [] }

function follower(): RawNode {
  const storage = new MemoryRaftStorage()
  storage.apply({ ...bootstrapState(FOUNDING), snapshot: undefined })
  return new RawNode({
    id: '2',
    storage,
    random: new SeededRandom(1),
    electionTicks: 10,
    heartbeatTicks: 1,
  })
}

describe('Status.appliedConf', () => {
  it('should stay the applied membership when a snapshot arrives before advance()', () => {
    const node = follower()
    const ready = node.ready()
    // The two founding conf-change entries are committed and handed out for applying.
    expect(ready.committedEntries.map((entry) => entry.index)).toEqual([1, 2])
    const snapshot = {
      metadata: { index: 10, term: 2, confState: { voters: ['1', '2'], learners: ['3'] } },
      data: EMPTY_BYTES,
    }
    node.step(message('snapshot', '1', '2', { term: 2, snapshot }))
    node.advance()
    // Applied is 2: learner 3 joined later, in what the snapshot covers.
    expect(node.status().appliedConf).toEqual(FOUNDING)
    const next = node.ready()
    expect(next.snapshot?.metadata.index).toBe(10)
    node.advance()
    expect(node.status().appliedConf).toEqual(snapshot.metadata.confState)
  })
})
