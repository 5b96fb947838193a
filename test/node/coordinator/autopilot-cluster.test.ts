// The autopilot against a real cluster of RawNodes (the Raft harness of test/ledger/raft): one
// Raft tick and one autopilot round per 100 ms of a hand-driven clock, last contact taken from
// the messages the leader receives, a dead peer cut off from every other.
import { describe, expect, it } from 'vitest'
import { MemoryRaftStorage } from '../../../ledger/index.ts'
import { Autopilot } from '../../../node/coordinator/autopilot.ts'
import type { AutopilotEvent } from '../../../node/coordinator/autopilot.ts'
import type { MemberContact, VoterTarget } from '../../../node/coordinator/autopilot-rules.ts'
import { Harness, bytes } from '../../ledger/raft/harness.ts'
import { ManualClock, ManualTimer } from './autopilot-timer.ts'

const ROUND_MS = 100

/** A cluster where every peer runs an autopilot, as every daemon does; only the leader's acts. */
class Mesh {
  readonly h: Harness
  readonly clock = new ManualClock()
  readonly dead = new Set<string>()
  readonly events: AutopilotEvent[] = []
  readonly #voterTarget: VoterTarget
  readonly #autopilots = new Map<string, { autopilot: Autopilot; timer: ManualTimer }>()
  /** Per receiving peer: when it last received a message from each other peer. */
  readonly #contacts = new Map<string, Map<string, number>>()

  readonly #writes: boolean

  /** `idle`: the leader takes no writes, so learners hear only its heartbeats, every
   * `learnerHeartbeatTicks` (default every tick). */
  constructor(voterTarget: VoterTarget, idle?: { learnerHeartbeatTicks: number }) {
    this.#voterTarget = voterTarget
    this.#writes = idle === undefined
    this.h = new Harness(['1'], idle ?? {}, ['2', '3', '4', '5'])
    this.h.node('1').campaign()
    this.#settle()
    for (const id of this.h.peers.keys()) this.#startAutopilot(id)
  }

  /** Admits a new peer as a learner, as the join protocol's admission does. */
  admit(id: string): void {
    this.h.addPeer(id, new MemoryRaftStorage())
    this.h.node(this.leader()).proposeConfChange({ type: 'add-learner', node: id })
    this.#settle()
    this.#startAutopilot(id)
  }

  /** Kills the peer: it is cut off from every other and runs nothing any more. */
  kill(id: string): void {
    this.dead.add(id)
    this.h.isolate(id)
  }

  /** Runs `ms` of rounds: live peers tick, the leader takes a write, autopilots review. */
  async run(ms: number): Promise<void> {
    for (let passed = 0; passed < ms; passed += ROUND_MS) {
      this.clock.nowMs += ROUND_MS
      for (const [id, peer] of this.h.peers) if (!this.dead.has(id)) peer.node.tick()
      const leader = this.#liveLeader()
      if (leader !== undefined && this.#writes) {
        this.h.node(leader).propose(bytes(`w${this.clock.nowMs}`))
      }
      this.#settle()
      for (const [id, { autopilot, timer }] of this.#autopilots) {
        if (this.dead.has(id)) continue
        timer.fire()
        await autopilot.idle()
      }
      this.#settle()
    }
  }

  leader(): string {
    const leader = this.#liveLeader()
    if (leader === undefined) throw new Error('no live leader')
    return leader
  }

  voters(): readonly string[] {
    return this.h.node(this.leader()).status().conf.voters
  }

  changes(): string[] {
    return this.events.flatMap((e) =>
      e.type === 'accepted' ? [`${e.change.type} ${e.change.node}`] : [],
    )
  }

  #liveLeader(): string | undefined {
    for (const [id, peer] of this.h.peers) {
      if (!this.dead.has(id) && peer.node.status().role === 'leader') return id
    }
    return undefined
  }

  #startAutopilot(id: string): void {
    const timer = new ManualTimer()
    const autopilot = new Autopilot({
      status: () => this.h.node(id).status(),
      contacts: () => this.#contactMap(id),
      proposeConfChange: async (change) => this.h.node(id).proposeConfChange(change),
      clock: this.clock,
      timer,
      config: {
        voterTarget: this.#voterTarget,
        stabilizationMs: 2_000,
        contactMsMax: 500,
        failedAfterMs: 3_000,
        lagEntriesMax: 5,
      },
      intervalMs: ROUND_MS,
      onEvent: (event) => this.events.push(event),
    })
    this.#autopilots.set(id, { autopilot, timer })
    autopilot.start()
  }

  #settle(): void {
    for (let round = 0; round < 100; round++) {
      let moved = false
      for (const id of this.h.peers.keys()) {
        if (!this.dead.has(id)) moved = this.h.processReady(id) || moved
      }
      for (const message of this.h.queue) {
        const heard = this.#contacts.get(message.to) ?? new Map<string, number>()
        heard.set(message.from, this.clock.nowMs)
        this.#contacts.set(message.to, heard)
      }
      moved = this.h.deliverAll() > 0 || moved
      if (!moved) return
    }
    throw new Error('the cluster did not settle')
  }

  #contactMap(receiver: string): Map<string, MemberContact> {
    const heard = this.#contacts.get(receiver)
    const map = new Map<string, MemberContact>()
    for (const id of this.h.peers.keys()) {
      map.set(id, { lastContactMs: heard?.get(id), voterCandidate: true })
    }
    return map
  }
}

describe('Autopilot on a cluster of RawNodes', () => {
  it('should grow 1 voter and 4 learners to 5 voters, then replace a dead voter', async () => {
    const mesh = new Mesh(5)
    expect(mesh.voters()).toEqual(['1'])
    await mesh.run(1_900)
    expect(mesh.voters()).toEqual(['1'])
    await mesh.run(3_000)
    expect(mesh.voters()).toEqual(['1', '2', '3', '4', '5'])
    expect(mesh.changes()).toEqual(['add-voter 2', 'add-voter 3', 'add-voter 4', 'add-voter 5'])

    mesh.admit('6')
    mesh.kill('3')
    await mesh.run(3_000)
    expect(mesh.voters()).toContain('3')
    await mesh.run(1_000)
    expect(mesh.voters()).toEqual(['1', '2', '4', '5', '6'])
    expect(mesh.changes().slice(4)).toEqual(['remove-node 3', 'add-voter 6'])
    const status = mesh.h.node('1').status()
    for (const id of ['2', '4', '5', '6']) {
      expect(mesh.h.node(id).status().commit).toBe(status.commit)
    }
  })

  it('should promote idle learners when their slower heartbeats keep them in contact', async () => {
    // Four ticks of 100 ms between a learner's heartbeats, within the 500 ms contact bound.
    const mesh = new Mesh(3, { learnerHeartbeatTicks: 4 })
    await mesh.run(1_900)
    expect(mesh.voters()).toEqual(['1'])
    await mesh.run(3_000)
    expect(mesh.voters()).toEqual(['1', '2', '3'])
    expect(mesh.changes()).toEqual(['add-voter 2', 'add-voter 3'])
  })

  it('should not promote idle learners when their heartbeats outlast contact', async () => {
    const mesh = new Mesh(3, { learnerHeartbeatTicks: 8 })
    await mesh.run(5_000)
    expect(mesh.voters()).toEqual(['1'])
  })

  it('should keep a dead voter of three until a new learner is stable', async () => {
    const mesh = new Mesh(3)
    await mesh.run(5_000)
    expect(mesh.voters()).toEqual(['1', '2', '3'])
    for (const id of ['2', '4', '5']) mesh.kill(id)
    await mesh.run(10_000)
    expect(mesh.voters()).toEqual(['1', '2', '3'])
    mesh.admit('6')
    await mesh.run(2_000)
    expect(mesh.voters()).toEqual(['1', '2', '3'])
    await mesh.run(1_000)
    expect(mesh.voters()).toEqual(['1', '3', '6'])
    expect(mesh.changes()).toEqual(['add-voter 2', 'add-voter 3', 'remove-node 2', 'add-voter 6'])
  })

  it('should replace a dead leader once its successor saw it silent too long', async () => {
    const mesh = new Mesh(3)
    await mesh.run(5_000)
    expect(mesh.voters()).toEqual(['1', '2', '3'])
    mesh.kill('1')
    await mesh.run(3_000)
    const leader = mesh.leader()
    expect(['2', '3']).toContain(leader)
    expect(mesh.voters()).toContain('1')
    await mesh.run(4_000)
    expect(mesh.voters()).toEqual([...new Set([leader, '2', '3', '4'])].sort())
    expect(mesh.changes().slice(2)).toEqual(['remove-node 1', 'add-voter 4'])
  })
})
