import { describe, expect, it } from 'vitest'
import {
  ProposalDroppedError,
  RaftConfigError,
  RawNode,
  SeededRandom,
} from '../../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/raft-memory-storage.ts'
import { Harness, bytes } from './harness.ts'
import type { ConfigOverrides } from './harness.ts'

/** A three-voter cluster led by 1 that has appended, not yet committed, "add learner 4". */
function learnerAppended(overrides: ConfigOverrides = {}): Harness {
  const h = new Harness(['1', '2', '3'], overrides)
  h.node('1').campaign()
  h.stabilize()
  h.node('1').proposeConfChange({ type: 'add-learner', node: '4' })
  h.processReady('1')
  return h
}

describe('RawNode', () => {
  it('should elect a leader that appends a no-op when one peer campaigns', () => {
    const h = new Harness(['1', '2', '3'])
    h.node('1').campaign()
    h.stabilize()
    expect(h.leader()).toBe('1')
    for (const id of ['1', '2', '3']) {
      // Three bootstrap conf entries, then the leader's no-op.
      expect(h.node(id).status()).toMatchObject({ term: 2, leader: '1', commit: 4 })
    }
  })

  it('should elect a leader by timeout when nobody campaigns', () => {
    const h = new Harness(['1', '2', '3'])
    h.tickAll(30)
    expect(h.leader()).toBeDefined()
  })

  it('should replicate and apply proposals in order on every peer', () => {
    const h = new Harness(['1', '2', '3'])
    h.node('1').campaign()
    h.stabilize()
    h.node('1').proposeBatch([bytes('a'), bytes('b')])
    h.node('1').propose(bytes('c'))
    h.stabilize()
    for (const id of ['1', '2', '3']) expect(h.appliedData(id)).toEqual(['a', 'b', 'c'])
  })

  it('should batch proposals made before one Ready into one append per follower', () => {
    const h = new Harness(['1', '2', '3'])
    h.node('1').campaign()
    h.stabilize()
    for (let i = 0; i < 10; i++) h.node('1').propose(bytes(`p${i}`))
    const ready = h.node('1').ready()
    const appends = ready.messages.filter((m) => m.type === 'append')
    expect(appends).toHaveLength(2)
    expect(appends.every((m) => m.entries.length === 10)).toBe(true)
    expect(ready.entries).toHaveLength(10)
  })

  it('should drop a proposal when there is no leader', () => {
    const h = new Harness(['1', '2', '3'])
    expect(() => h.node('1').propose(bytes('x'))).toThrow(ProposalDroppedError)
  })

  it('should keep a minority from committing when the leader is cut off', () => {
    const h = new Harness(['1', '2', '3'])
    h.node('1').campaign()
    h.stabilize()
    h.isolate('1')
    h.node('1').propose(bytes('lost'))
    h.stabilize()
    expect(h.node('1').status().commit).toBe(4)
    h.tickAll(40)
    const leader = h.leader()
    expect(leader === '2' || leader === '3').toBe(true)
    h.heal()
    h.tickAll(5)
    expect(h.node('1').status().role).toBe('follower')
    expect(h.appliedData('1')).toEqual([])
  })

  it('should step down when CheckQuorum finds no quorum', () => {
    const h = new Harness(['1', '2', '3'])
    h.node('1').campaign()
    h.stabilize()
    h.isolate('1')
    h.tickAll(25)
    expect(h.node('1').status().role).not.toBe('leader')
  })

  it('should refuse an invalid config when created', () => {
    const base = { id: '1', storage: new MemoryRaftStorage(), random: new SeededRandom(1) }
    expect(() => new RawNode({ ...base, electionTicks: 1, heartbeatTicks: 1 })).toThrow(
      RaftConfigError,
    )
    expect(() => new RawNode({ ...base, id: '', electionTicks: 10, heartbeatTicks: 1 })).toThrow(
      RaftConfigError,
    )
    expect(
      () => new RawNode({ ...base, electionTicks: 10, heartbeatTicks: 1, appendBytesMax: 0 }),
    ).toThrow(RaftConfigError)
  })

  it('should recover term, vote and log when restarted from storage', () => {
    const h = new Harness(['1', '2', '3'])
    h.node('1').campaign()
    h.stabilize()
    h.node('1').propose(bytes('a'))
    h.stabilize()
    h.restart('2')
    expect(h.node('2').status()).toMatchObject({ term: 2, commit: 5, lastIndex: 5 })
    h.stabilize()
    h.tickAll(2)
    expect(h.appliedData('2')).toEqual(['a'])
  })

  it('should report the membership as of the applied index when a change is not yet applied', () => {
    const h = learnerAppended()
    const status = h.node('1').status()
    expect(status.conf.learners).toEqual(['4'])
    expect(status.appliedConf).toEqual({ voters: ['1', '2', '3'], learners: [] })
    h.stabilize()
    for (const id of ['1', '2', '3']) {
      expect(h.node(id).status().appliedConf).toEqual({ voters: ['1', '2', '3'], learners: ['4'] })
    }
  })

  it('should report a conf change index above commit when the change is uncommitted', () => {
    const h = learnerAppended()
    const before = h.node('1').status()
    expect(before.lastConfIndex).toBe(before.lastIndex)
    expect(before.lastConfIndex).toBeGreaterThan(before.commit)
    h.stabilize()
    const after = h.node('1').status()
    expect(after.lastConfIndex).toBe(before.lastConfIndex)
    expect(after.commit).toBeGreaterThanOrEqual(after.lastConfIndex)
  })

  it('should report the appended membership as applied when appliedConfIsAppended is on', () => {
    const h = learnerAppended({ testingKnobs: { appliedConfIsAppended: true } })
    expect(h.node('1').status().appliedConf.learners).toEqual(['4'])
  })

  it('should report the membership as of the applied index when restarted', () => {
    const h = learnerAppended()
    h.stabilize()
    // Applied 0: nothing of the log is applied yet, so no member is either.
    h.restart('2')
    expect(h.node('2').status().appliedConf).toEqual({ voters: [], learners: [] })
    expect(h.node('2').status().conf.learners).toEqual(['4'])
    h.stabilize()
    h.tickAll(2)
    expect(h.node('2').status().appliedConf).toEqual({ voters: ['1', '2', '3'], learners: ['4'] })
  })

  it('should report the snapshot membership when a follower restores a snapshot', () => {
    const h = learnerAppended()
    h.stabilize()
    const leader = h.peer('1')
    const applied = leader.node.status().applied
    const snapshot = {
      metadata: { index: applied, term: 2, confState: leader.node.status().appliedConf },
      data: new Uint8Array(0),
    }
    leader.storage.compactSync(snapshot, 0)
    h.addPeer('4', new MemoryRaftStorage())
    h.tickAll(3)
    expect(h.node('4').status()).toMatchObject({
      applied,
      appliedConf: { voters: ['1', '2', '3'], learners: ['4'] },
    })
  })
})
