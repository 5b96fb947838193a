// A leader heartbeats learners every learnerHeartbeatTicks and voters every heartbeatTicks: a
// learner needs the commit index only to apply and serve local reads, and never votes, so its
// heartbeats are the largest idle cost of a mesh with many executor peers.
import { describe, expect, it } from 'vitest'
import type { Message } from '../../../ledger/raft/index.ts'
import { Harness } from './harness.ts'

const HEARTBEAT_TICKS = 2
const LEARNER_HEARTBEAT_TICKS = 12
const WINDOW_TICKS = 4 * LEARNER_HEARTBEAT_TICKS

/** Voters 1 and 2 and learner 3, with 1 elected. */
function cluster(): Harness {
  const harness = new Harness(
    ['1', '2'],
    {
      electionTicks: 10,
      heartbeatTicks: HEARTBEAT_TICKS,
      learnerHeartbeatTicks: LEARNER_HEARTBEAT_TICKS,
    },
    ['3'],
  )
  harness.node('1').campaign()
  harness.stabilize()
  expect(harness.leader()).toBe('1')
  return harness
}

/** Ticks only the leader `count` times and returns the heartbeats it sent, by recipient. */
function heartbeatsOver(harness: Harness, count: number): Map<string, Message[]> {
  const sent = new Map<string, Message[]>()
  const leader = harness.node('1')
  for (let i = 0; i < count; i++) {
    leader.tick()
    if (!leader.hasReady()) continue
    const ready = leader.ready()
    for (const message of ready.messages) {
      if (message.type !== 'heartbeat') continue
      sent.set(message.to, [...(sent.get(message.to) ?? []), message])
    }
    harness.processReadyFrom('1', ready)
    harness.stabilize()
  }
  return sent
}

describe('learner heartbeats', () => {
  it('should heartbeat a learner at its slower rate and a voter at the normal rate', () => {
    const harness = cluster()
    const sent = heartbeatsOver(harness, WINDOW_TICKS)
    expect(sent.get('2')?.length).toBe(WINDOW_TICKS / HEARTBEAT_TICKS)
    expect(sent.get('3')?.length).toBe(WINDOW_TICKS / LEARNER_HEARTBEAT_TICKS)
  })

  it('should send a learner each append at once when its heartbeats are slower', () => {
    const harness = cluster()
    harness.node('1').propose(new TextEncoder().encode('x'))
    const appends = harness
      .node('1')
      .ready()
      .messages.filter((message) => message.type === 'append' && message.entries.length > 0)
    expect(appends.map((message) => message.to).sort()).toEqual(['2', '3'])
  })

  it('should let an idle learner learn a commit within one learner heartbeat period', () => {
    const harness = cluster()
    harness.node('1').propose(new TextEncoder().encode('x'))
    harness.processReady('1')
    harness.deliverAll()
    // The learner holds the entry; the word that it committed is lost on the way.
    harness.cut.add('1->3')
    harness.stabilize()
    harness.heal()
    expect(harness.peer('1').applied.length).toBeGreaterThan(harness.peer('3').applied.length)
    expect(harness.appliedData('3')).toEqual([])
    heartbeatsOver(harness, LEARNER_HEARTBEAT_TICKS)
    expect(harness.appliedData('3')).toEqual(['x'])
  })

  it('should heartbeat a promoted learner at the normal rate when it becomes a voter', () => {
    const harness = cluster()
    harness.node('1').proposeConfChange({ type: 'add-voter', node: '3' })
    harness.stabilize()
    expect(harness.node('1').status().conf.voters).toEqual(['1', '2', '3'])
    const sent = heartbeatsOver(harness, WINDOW_TICKS)
    expect(sent.get('3')?.length).toBe(WINDOW_TICKS / HEARTBEAT_TICKS)
  })

  it('should refuse a learner heartbeat interval shorter than the voters one', () => {
    expect(
      () => new Harness(['1'], { electionTicks: 10, heartbeatTicks: 4, learnerHeartbeatTicks: 3 }),
    ).toThrow(/learnerHeartbeatTicks/)
  })
})
