import { describe, expect, it } from 'vitest'
import type { raft } from '../../../ledger/index.ts'
import {
  AutopilotConfigError,
  assessMembers,
  autopilotConfig,
  decide,
} from '../../../node/coordinator/autopilot-rules.ts'
import type {
  AutopilotConfig,
  AutopilotStatus,
  Decision,
  MemberContact,
  VoterTarget,
} from '../../../node/coordinator/autopilot-rules.ts'

const NOW = 1_000_000
const STABLE = 10_000
const config = (voterTarget: VoterTarget): AutopilotConfig =>
  autopilotConfig({
    voterTarget,
    stabilizationMs: STABLE,
    contactMsMax: 2_000,
    failedAfterMs: 30_000,
    lagEntriesMax: 100,
  })

/** A member as the test describes it: silent for `silentMs`, healthy since `sinceMs` ago. */
interface MemberSpec {
  readonly silentMs?: number
  readonly match?: number
  readonly candidate?: boolean
  readonly healthyForMs?: number
}

interface Scene {
  voters: string[]
  learners: string[]
  members?: Record<string, MemberSpec>
  role?: raft.Role
  lastConfIndex?: number
}

const LAST_INDEX = 1_000

function statusOf(scene: Scene): AutopilotStatus {
  const progress: Record<string, raft.ProgressStatus> = {}
  for (const id of [...scene.voters, ...scene.learners]) {
    const match = scene.members?.[id]?.match ?? LAST_INDEX
    progress[id] = { match, next: match + 1, state: 'replicate', paused: false, inflight: 0 }
  }
  return {
    id: '1',
    role: scene.role ?? 'leader',
    commit: LAST_INDEX,
    lastIndex: LAST_INDEX,
    lastConfIndex: scene.lastConfIndex ?? 10,
    conf: { voters: scene.voters, learners: scene.learners },
    progress,
  }
}

function decideFor(scene: Scene, target: VoterTarget): Decision {
  const status = statusOf(scene)
  const contacts = new Map<string, MemberContact>()
  const healthySinceMs = new Map<string, number>()
  for (const id of [...scene.voters, ...scene.learners]) {
    const spec = scene.members?.[id] ?? {}
    contacts.set(id, {
      lastContactMs: NOW - (spec.silentMs ?? 100),
      voterCandidate: spec.candidate ?? true,
    })
    healthySinceMs.set(id, NOW - (spec.healthyForMs ?? 60_000))
  }
  const input = { status, contacts, healthySinceMs, trackedSinceMs: 0, nowMs: NOW }
  const members = assessMembers({ ...input, config: config(target) })
  return decide(status, members, config(target))
}

/** Applies a decided change to the scene, as its commit would. */
function applied(scene: Scene, decision: Decision): Scene {
  const change = decision.change
  if (change === undefined) throw new Error(`no change: ${decision.reason}`)
  const voters = scene.voters.filter((id) => id !== change.node)
  const learners = scene.learners.filter((id) => id !== change.node)
  if (change.type === 'add-voter') voters.push(change.node)
  if (change.type === 'add-learner') learners.push(change.node)
  return { ...scene, voters, learners }
}

const dead = { silentMs: 60_000 }

describe('autopilot rules: promotion', () => {
  it('should promote a caught-up stable learner when voters are below the target', () => {
    const decision = decideFor({ voters: ['1'], learners: ['2'] }, 3)
    expect(decision.change).toEqual({ type: 'add-voter', node: '2' })
  })

  it.each<[string, MemberSpec]>([
    ['healthy for less than the stabilization time', { healthyForMs: STABLE - 1 }],
    ['trailing by more than the lag limit', { match: LAST_INDEX - 101 }],
    ['silent for longer than the contact limit', { silentMs: 2_001 }],
    ['not a voter candidate', { candidate: false }],
  ])('should not promote a learner when it is %s', (_, spec) => {
    const decision = decideFor({ voters: ['1'], learners: ['2'], members: { '2': spec } }, 3)
    expect(decision.change).toBeUndefined()
  })

  it('should promote a learner when it is exactly at the lag limit and the stable time', () => {
    const members = { '2': { match: LAST_INDEX - 100, healthyForMs: STABLE } }
    expect(decideFor({ voters: ['1'], learners: ['2'], members }, 3).change?.node).toBe('2')
  })

  it('should promote the learner with the highest match when several are stable', () => {
    const members = { '2': { match: 950 }, '3': { match: 990 }, '4': { match: 990 } }
    const decision = decideFor({ voters: ['1'], learners: ['2', '3', '4'], members }, 3)
    expect(decision.change).toEqual({ type: 'add-voter', node: '3' })
  })

  it('should not promote when the voters meet the target', () => {
    const decision = decideFor({ voters: ['1', '2', '3'], learners: ['4'] }, 3)
    expect(decision.change).toBeUndefined()
    expect(decision.reason).toMatch(/meet the target/)
  })

  it('should grow 1 -> 3 -> 5 one voter at a time when learners are stable', () => {
    let scene: Scene = { voters: ['1'], learners: ['2', '3', '4', '5'] }
    const promoted: string[] = []
    for (const target of [3, 5] as const) {
      for (let decision = decideFor(scene, target); decision.change !== undefined;) {
        promoted.push(decision.change.node)
        scene = applied(scene, decision)
        decision = decideFor(scene, target)
      }
      expect(scene.voters).toHaveLength(target)
    }
    expect(promoted).toEqual(['2', '3', '4', '5'])
    expect(scene.learners).toEqual([])
  })
})

describe('autopilot rules: failed voters', () => {
  it('should remove a dead voter of three when a stable learner can replace it', () => {
    const scene = { voters: ['1', '2', '3'], learners: ['4'], members: { '3': dead } }
    const first = decideFor(scene, 3)
    expect(first.change).toEqual({ type: 'remove-node', node: '3' })
    const second = decideFor(applied(scene, first), 3)
    expect(second.change).toEqual({ type: 'add-voter', node: '4' })
  })

  it('should keep a dead voter of three when no learner can replace it', () => {
    const unstable = { '3': dead, '4': { healthyForMs: 5_000 } }
    for (const scene of [
      { voters: ['1', '2', '3'], learners: [], members: { '3': dead } },
      { voters: ['1', '2', '3'], learners: ['4'], members: unstable },
    ]) {
      const decision = decideFor(scene, 3)
      expect(decision.change).toBeUndefined()
      expect(decision.reason).toMatch(/stays until a learner can replace it/)
    }
  })

  it('should not remove a dead voter of three when the healthy voters left are no quorum', () => {
    const members = { '2': { silentMs: 5_000 }, '3': dead }
    const decision = decideFor({ voters: ['1', '2', '3'], learners: ['4'], members }, 3)
    expect(decision.change).toBeUndefined()
    expect(decision.reason).toMatch(/fewer than a quorum of 2/)
  })

  it('should not remove the dead voter of two voters when a learner could replace it', () => {
    const decision = decideFor({ voters: ['1', '2'], learners: ['3'], members: { '2': dead } }, 3)
    expect(decision.change).toBeUndefined()
    expect(decision.reason).toMatch(/leave 1 healthy voters, fewer than a quorum of 2/)
  })

  it('should remove two dead voters of five one at a time, the longest silent first', () => {
    const members = { '4': { silentMs: 40_000 }, '5': { silentMs: 90_000 } }
    let scene: Scene = { voters: ['1', '2', '3', '4', '5'], learners: [], members }
    const first = decideFor(scene, 5)
    expect(first.change).toEqual({ type: 'remove-node', node: '5' })
    scene = applied(scene, first)
    const second = decideFor(scene, 5)
    expect(second.change).toEqual({ type: 'remove-node', node: '4' })
    scene = applied(scene, second)
    expect(decideFor(scene, 5).change).toBeUndefined()
    expect(scene.voters).toEqual(['1', '2', '3'])
  })

  it('should remove a dead voter when voters exceed the target', () => {
    const members = { '5': dead }
    const decision = decideFor({ voters: ['1', '2', '3', '4', '5'], learners: [], members }, 3)
    expect(decision.change).toEqual({ type: 'remove-node', node: '5' })
  })

  it('should remove a failed voter before promoting when below the target', () => {
    const members = { '3': dead }
    const decision = decideFor({ voters: ['1', '2', '3'], learners: ['4', '5'], members }, 5)
    expect(decision.change).toEqual({ type: 'remove-node', node: '3' })
  })

  it('should never remove the leader when nothing is known of its contact', () => {
    const scene = { voters: ['1', '2', '3'], learners: ['4'], members: { '1': dead } }
    expect(decideFor(scene, 3).change).toBeUndefined()
  })

  it('should count a voter never heard from as failed only once tracked past the threshold', () => {
    const status = statusOf({ voters: ['1', '2', '3'], learners: [] })
    const contacts = new Map([['2', { lastContactMs: undefined, voterCandidate: true }]])
    const assess = (nowMs: number) =>
      assessMembers({
        status,
        contacts,
        healthySinceMs: new Map(),
        trackedSinceMs: 500_000,
        nowMs,
        config: config(3),
      }).find((m) => m.id === '2')
    expect(assess(530_000)).toMatchObject({ failed: false, reachable: false })
    expect(assess(530_001)).toMatchObject({ failed: true, reachable: false })
  })
})

describe('autopilot rules: one change at a time', () => {
  it.each<[string, Scene]>([
    ['a promotion', { voters: ['1'], learners: ['2'] }],
    ['a removal', { voters: ['1', '2', '3'], learners: ['4'], members: { '3': dead } }],
  ])('should propose nothing when a conf change is uncommitted and %s is due', (_, scene) => {
    expect(decideFor(scene, 3).change).toBeDefined()
    const decision = decideFor({ ...scene, lastConfIndex: LAST_INDEX + 1 }, 3)
    expect(decision.change).toBeUndefined()
    expect(decision.reason).toMatch(/not yet committed/)
  })

  it('should propose nothing when this peer is not the leader', () => {
    expect(decideFor({ voters: ['1'], learners: ['2'], role: 'follower' }, 3).change).toBe(
      undefined,
    )
  })
})

describe('autopilot rules: health over time', () => {
  it('should restart the stabilization time when a learner flaps', () => {
    const status = statusOf({ voters: ['1'], learners: ['2'] })
    let healthySinceMs = new Map<string, number>()
    const at = (nowMs: number, lastContactMs: number) => {
      const contacts = new Map([['2', { lastContactMs, voterCandidate: true }]])
      const input = { status, contacts, healthySinceMs, trackedSinceMs: 0, nowMs }
      const members = assessMembers({ ...input, config: config(3) })
      healthySinceMs = new Map(
        members.flatMap((m) => (m.healthySinceMs === undefined ? [] : [[m.id, m.healthySinceMs]])),
      )
      return decide(status, members, config(3)).change
    }
    expect(at(0, 0)).toBeUndefined()
    expect(at(5_000, 2_500)).toBeUndefined() // silent 2.5 s: unhealthy, the clock restarts
    expect(at(6_000, 6_000)).toBeUndefined()
    expect(at(11_000, 11_000)).toBeUndefined() // healthy for 5 s only since the flap
    expect(at(15_999, 15_999)).toBeUndefined()
    expect(at(16_000, 16_000)).toEqual({ type: 'add-voter', node: '2' })
  })
})

describe('autopilot config', () => {
  it.each<[string, Partial<AutopilotConfig>]>([
    ['a voter target of 2', { voterTarget: 2 as VoterTarget }],
    ['a negative stabilization time', { stabilizationMs: -1 }],
    ['a fractional lag', { lagEntriesMax: 0.5 }],
    ['a failure threshold below the contact limit', { failedAfterMs: 1_000 }],
  ])('should refuse %s', (_, init) => {
    expect(() => autopilotConfig({ voterTarget: 3, ...init })).toThrow(AutopilotConfigError)
  })

  it('should take the defaults from protocol limits when only the target is given', () => {
    expect(autopilotConfig({ voterTarget: 5 })).toMatchObject({
      voterTarget: 5,
      stabilizationMs: 10_000,
      failedAfterMs: 30_000,
    })
  })
})
