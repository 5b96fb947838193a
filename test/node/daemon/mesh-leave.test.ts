// When `gridx leave` is refused: the rules read the state, this peer's Raft status and the
// coordinator's view of each member's health, and refuse whatever would leave the mesh with
// no voter or no quorum.
import { describe, expect, it } from 'vitest'
import type { AdmittedPeer } from '../../../ledger/index.ts'
import { leaveRefusal } from '../../../node/daemon/mesh-leave.ts'
import type { LeaveView } from '../../../node/daemon/mesh-leave.ts'
import type { MeshMemberView } from '../../../protocol/index.ts'

function peers(...ids: string[]): LeaveView['state'] {
  const admitted = (peer: string): AdmittedPeer => ({
    peer,
    owner: peer,
    roles: ['voter', 'executor'],
    admittedAt: 0,
  })
  return { peers: new Map(ids.map((id) => [id, admitted(id)])) }
}

function member(peerId: string, role: 'voter' | 'learner', healthy: boolean): MeshMemberView {
  return { peerId, role, healthy, matchIndex: 1, lastContactMs: 0 }
}

function view(overrides: Partial<LeaveView>): LeaveView {
  return {
    self: 'a',
    state: peers('a', 'b', 'c', 'd'),
    status: { role: 'leader', conf: { voters: ['a', 'b', 'c'], learners: ['d'] } },
    members: [
      member('a', 'voter', true),
      member('b', 'voter', true),
      member('c', 'voter', true),
      member('d', 'learner', true),
    ],
    ...overrides,
  }
}

describe('leaveRefusal', () => {
  it('should let a coordinator leave when the other voters are a healthy quorum', () => {
    expect(leaveRefusal(view({}))).toBeNull()
    const oneDown = [member('b', 'voter', true), member('c', 'voter', false)]
    // Of the two voters left, one is down: a quorum of two needs both.
    expect(leaveRefusal(view({ members: oneDown }))).toMatch(/fewer than the 2 a quorum needs/)
  })

  it('should refuse the only voter when other peers depend on it', () => {
    const status = { role: 'leader', conf: { voters: ['a'], learners: ['b'] } } as const
    const refusal = leaveRefusal(view({ state: peers('a', 'b'), status }))
    expect(refusal).toMatch(/only voter of a mesh of 2 peers/)
    expect(refusal).toMatch(/gridx token --voter/)
  })

  it('should refuse the only peer of a mesh when there is nothing to leave', () => {
    const status = { role: 'leader', conf: { voters: ['a'], learners: [] } } as const
    expect(leaveRefusal(view({ state: peers('a'), status }))).toMatch(/only one of its mesh/)
  })

  it('should refuse a peer that left already', () => {
    expect(leaveRefusal(view({ state: peers('b', 'c', 'd') }))).toMatch(/left already/)
  })

  it('should let a learner leave whatever the voters’ health', () => {
    const members = [member('b', 'voter', false), member('c', 'voter', false)]
    expect(leaveRefusal(view({ self: 'd', members }))).toBeNull()
  })
})
