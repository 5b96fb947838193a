import { describe, expect, it } from 'vitest'
import {
  capacityLabel,
  contactLabel,
  ownerLabel,
  formatAgo,
  memberHealth,
  meshMembers,
  voterSummary,
} from '../../../pwa/src/mesh-format.ts'
import { AUTOPILOT_CONTACT_MS_MAX } from '../../../protocol/index.ts'
import type { MeshInfo, MeshMemberView } from '../../../protocol/index.ts'

const NOW_MS = 1_700_000_000_000

function info(fields: Partial<MeshInfo> = {}): MeshInfo {
  return {
    meshId: 'mesh-a',
    peerId: 'peer-self',
    owner: 'owner',
    coordinator: 'peer-self',
    term: 3,
    appliedIndex: 41,
    version: '0.0.0',
    policy: {} as MeshInfo['policy'],
    queueLength: 0,
    jobsByState: {} as MeshInfo['jobsByState'],
    ...fields,
  }
}

function member(fields: Partial<MeshMemberView>): MeshMemberView {
  return {
    peerId: 'peer-b',
    role: 'voter',
    healthy: true,
    matchIndex: 40,
    lastContactMs: NOW_MS - 50,
    ...fields,
  }
}

describe('mesh format', () => {
  it('should call a member healthy when the coordinator says so', () => {
    expect(memberHealth(member({}), NOW_MS)).toBe('healthy')
  })

  it('should call an unhealthy member lagging when it was heard from recently', () => {
    expect(memberHealth(member({ healthy: false }), NOW_MS)).toBe('lagging')
  })

  it('should call an unhealthy member unreachable when it is silent or never heard', () => {
    const silentMs = NOW_MS - AUTOPILOT_CONTACT_MS_MAX - 1
    expect(memberHealth(member({ healthy: false, lastContactMs: silentMs }), NOW_MS)).toBe(
      'unreachable',
    )
    expect(memberHealth(member({ healthy: false, lastContactMs: null }), NOW_MS)).toBe(
      'unreachable',
    )
  })

  it('should show the one voter of a one-machine peer when the members are absent', () => {
    expect(meshMembers(info())).toEqual([
      { peerId: 'peer-self', role: 'voter', healthy: true, matchIndex: 41, lastContactMs: null },
    ])
    expect(meshMembers(info({ commitIndex: 44 }))[0]?.matchIndex).toBe(44)
  })

  it('should list voters before learners when the members are given', () => {
    const members = [member({ peerId: 'l', role: 'learner' }), member({ peerId: 'v' })]
    expect(meshMembers(info({ members })).map((m) => m.peerId)).toEqual(['v', 'l'])
  })

  it('should count voters against the target and learners when summarised', () => {
    expect(voterSummary(info())).toBe('1 voter, no learners')
    const members = [member({ peerId: 'a' }), member({ role: 'learner' })]
    expect(voterSummary(info({ members, voterTarget: 3 }))).toBe('1 voter of 3 wanted, 1 learner')
    const three = [member({ peerId: 'a' }), member({ peerId: 'b' }), member({ peerId: 'c' })]
    expect(voterSummary(info({ members: [...three, member({ role: 'learner' })] }))).toBe(
      '3 voters, 1 learner',
    )
  })

  it('should say how long ago in seconds, now under 100 ms and never for null', () => {
    expect(formatAgo(NOW_MS - 50, NOW_MS)).toBe('now')
    expect(formatAgo(NOW_MS - 1500, NOW_MS)).toBe('1.5 s ago')
    expect(formatAgo(NOW_MS - 3000, NOW_MS)).toBe('3 s ago')
    expect(formatAgo(NOW_MS - 125_000, NOW_MS)).toBe('2 min ago')
    expect(formatAgo(NOW_MS - 2 * 3_600_000 - 1, NOW_MS)).toBe('2 h ago')
    expect(formatAgo(NOW_MS - 3 * 86_400_000, NOW_MS)).toBe('3 d ago')
    // Another machine's clock may run ahead of this one.
    expect(formatAgo(NOW_MS + 400, NOW_MS)).toBe('now')
    expect(formatAgo(null, NOW_MS)).toBe('never')
  })

  it('should say unknown, not unreachable, when the coordinator’s view is missing', () => {
    const missing = info({ membersUnknown: 'the coordinator did not answer' })
    const silent = member({ healthy: false, lastContactMs: null })
    expect(memberHealth(silent, NOW_MS, missing)).toBe('unknown')
    expect(contactLabel(silent, missing, NOW_MS)).toBe('not known here')
  })

  it('should label this peer instead of a contact time when it is the one shown', () => {
    const self = member({ peerId: 'peer-self', lastContactMs: null })
    expect(contactLabel(self, info(), NOW_MS)).toBe('this peer')
    expect(contactLabel(member({}), info(), NOW_MS)).toBe('now')
  })

  it('should name the owner, or say the peer owns itself', () => {
    const peer = { peerId: 'peer-b', owner: 'peer-a' }
    expect(ownerLabel(peer)).toBe('peer-a')
    expect(ownerLabel({ ...peer, owner: 'peer-b' })).toBe('itself')
  })

  it('should say capacity is not known here when another peer comes without heartbeats', () => {
    const capacity = { cpus: 2, memoryMb: 2048, runtimes: ['bash'] as const }
    const peer = { self: false, capacity: null, lastHeartbeatMs: null }
    expect(capacityLabel(peer)).toBe('runs no jobs')
    expect(capacityLabel({ ...peer, capacity })).toBe('2 CPU, 2048 MB, bash')
    // Without the coordinator's view a mesh peer's heartbeat is absent: nothing is known.
    expect(capacityLabel({ self: false, capacity: null })).toBe('not known on this peer')
    expect(capacityLabel({ self: true, capacity: null })).toBe('runs no jobs')
  })
})
