import { describe, expect, it } from 'vitest'
import { message } from '../../../ledger/raft/index.ts'
import { RAFT_PENDING_READS_MAX } from '../../../protocol/index.ts'
import { ReadOnly } from '../../../ledger/raft/read-only.ts'
import { Harness, bytes } from './harness.ts'

function read(context: string) {
  return message('read-index', '2', '1', { context: bytes(context) })
}

/** Steps a two-voter cluster until 1 leads, then cuts 2 off so 1's no-op stays uncommitted. */
function leaderWithUncommittedNoop(): Harness {
  const h = new Harness(['1', '2'])
  h.node('1').campaign()
  while (h.leader() !== '1') {
    h.processReady('1')
    h.processReady('2')
    h.deliverAll()
  }
  h.isolate('2')
  return h
}

describe('ReadOnly', () => {
  it('should hand back postponed reads oldest first when taken', () => {
    const readOnly = new ReadOnly(3)
    for (const context of ['a', 'b', 'c']) expect(readOnly.postpone(read(context))).toBe(true)
    const taken = readOnly.takePostponed().map((m) => new TextDecoder().decode(m.context))
    expect(taken).toEqual(['a', 'b', 'c'])
    expect(readOnly.takePostponed()).toEqual([])
  })

  it('should refuse a postponed read when the queue is full', () => {
    const readOnly = new ReadOnly(2)
    readOnly.postpone(read('a'))
    readOnly.postpone(read('b'))
    expect(readOnly.postpone(read('c'))).toBe(false)
    expect(readOnly.takePostponed()).toHaveLength(2)
  })

  it('should forget postponed reads when reset', () => {
    const readOnly = new ReadOnly(2)
    readOnly.postpone(read('a'))
    readOnly.reset()
    expect(readOnly.takePostponed()).toEqual([])
  })
})

describe('reads before the no-op commits', () => {
  it('should answer at most RAFT_PENDING_READS_MAX early reads when more arrive', () => {
    const h = leaderWithUncommittedNoop()
    for (let i = 0; i <= RAFT_PENDING_READS_MAX; i++) h.node('1').readIndex(bytes(`r${i}`))
    h.stabilize()
    expect(h.peer('1').readStates).toHaveLength(0)
    h.heal()
    h.tickAll(3)
    const answered = h.peer('1').readStates
    expect(answered).toHaveLength(RAFT_PENDING_READS_MAX)
    expect(new TextDecoder().decode(answered[0]?.context)).toBe('r0')
    // Answered at the no-op's index (two bootstrap entries, then the no-op).
    expect(answered.every((state) => state.index === 3)).toBe(true)
  })

  it('should not answer early reads when the leader steps down before its no-op commits', () => {
    const h = leaderWithUncommittedNoop()
    h.node('1').readIndex(bytes('early'))
    // CheckQuorum: without word from 2 the leader steps down within an election timeout.
    h.tickAll(25)
    expect(h.node('1').status().role).not.toBe('leader')
    h.heal()
    h.tickAll(60)
    expect(h.leader()).toBeDefined()
    expect(h.peer('1').readStates).toHaveLength(0)
  })
})
