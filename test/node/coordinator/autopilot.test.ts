import { describe, expect, it } from 'vitest'
import type { raft } from '../../../ledger/index.ts'
import {
  Autopilot,
  AutopilotProposalTimeoutError,
  systemIntervalTimer,
} from '../../../node/coordinator/autopilot.ts'
import type { AutopilotEvent, AutopilotInit } from '../../../node/coordinator/autopilot.ts'
import { AutopilotConfigError } from '../../../node/coordinator/autopilot-rules.ts'
import type { AutopilotStatus, MemberContact } from '../../../node/coordinator/autopilot-rules.ts'
import { ManualClock, ManualTimer } from './autopilot-timer.ts'

const STABLE_MS = 1_000

/** One leader '1' and one learner '2' that answers every round, unless told to be silent. */
class Scene {
  readonly clock = new ManualClock()
  readonly timer = new ManualTimer()
  readonly events: AutopilotEvent[] = []
  readonly proposals: { change: raft.ConfChange; signal: AbortSignal }[] = []
  role: raft.Role = 'leader'
  silent = false
  /** How the next proposal settles: accepted, refused, or never (it hangs). */
  outcome: 'accept' | 'refuse' | 'hang' = 'accept'
  readonly autopilot: Autopilot
  #lastContactMs = 0

  constructor(overrides: Partial<AutopilotInit> = {}) {
    this.autopilot = new Autopilot({
      status: () => this.status(),
      contacts: () => new Map<string, MemberContact>([['2', this.contact()]]),
      proposeConfChange: (change, signal) => this.propose(change, signal),
      clock: this.clock,
      timer: this.timer,
      config: { voterTarget: 3, stabilizationMs: STABLE_MS, contactMsMax: 300 },
      intervalMs: 100,
      proposalTimeoutMs: 2_000,
      onEvent: (event) => this.events.push(event),
      ...overrides,
    })
  }

  status(): AutopilotStatus {
    const progress: raft.ProgressStatus = {
      match: 10,
      next: 11,
      state: 'replicate',
      paused: false,
      inflight: 0,
    }
    return {
      id: '1',
      role: this.role,
      commit: 10,
      lastIndex: 10,
      lastConfIndex: 1,
      conf: { voters: ['1'], learners: ['2'] },
      progress: { '1': progress, '2': progress },
    }
  }

  contact(): MemberContact {
    return { lastContactMs: this.#lastContactMs, voterCandidate: true }
  }

  async propose(change: raft.ConfChange, signal: AbortSignal): Promise<void> {
    this.proposals.push({ change, signal })
    if (this.outcome === 'refuse') throw new Error('refused')
    if (this.outcome === 'hang') await new Promise(() => undefined)
  }

  /** Lets `ms` pass in rounds of 100 ms, the learner answering unless silent. */
  async pass(ms: number): Promise<void> {
    for (let passed = 0; passed < ms; passed += 100) {
      this.clock.nowMs += 100
      if (!this.silent) this.#lastContactMs = this.clock.nowMs
      this.timer.fire()
      if (this.outcome !== 'hang') await this.autopilot.idle()
    }
  }
}

const promote2 = { type: 'add-voter', node: '2' }

describe('Autopilot', () => {
  it('should propose a promotion once when the learner has been stable long enough', async () => {
    const scene = new Scene()
    scene.autopilot.start()
    await scene.pass(STABLE_MS)
    expect(scene.proposals).toEqual([])
    await scene.pass(100)
    expect(scene.proposals.map((p) => p.change)).toEqual([promote2])
    expect(scene.events.map((e) => e.type)).toEqual(['proposed', 'accepted'])
  })

  it('should not propose again while a proposal is in flight', async () => {
    const scene = new Scene()
    scene.outcome = 'hang'
    scene.autopilot.start()
    await scene.pass(STABLE_MS + 1_000)
    expect(scene.proposals).toHaveLength(1)
    expect(scene.autopilot.reconcile().reason).toMatch(/in flight/)
  })

  it('should give up on a proposal after its timeout and abort its signal', async () => {
    const scene = new Scene()
    scene.outcome = 'hang'
    scene.autopilot.start()
    await scene.pass(STABLE_MS + 100)
    const [first] = scene.proposals
    await scene.pass(2_000)
    expect(first?.signal.aborted).toBe(false)
    await scene.pass(100)
    expect(first?.signal.aborted).toBe(true)
    expect(first?.signal.reason).toBeInstanceOf(AutopilotProposalTimeoutError)
    expect(scene.events.map((e) => e.type)).toEqual(['proposed', 'failed', 'proposed'])
    expect(scene.proposals).toHaveLength(2)
  })

  it('should report a refused proposal and propose again on the next round', async () => {
    const scene = new Scene()
    scene.outcome = 'refuse'
    scene.autopilot.start()
    await scene.pass(STABLE_MS + 200)
    expect(scene.proposals).toHaveLength(2)
    const failed = scene.events.find((e) => e.type === 'failed')
    expect(failed).toMatchObject({ change: promote2, error: new Error('refused') })
  })

  it('should restart the stabilization time when the learner falls silent', async () => {
    const scene = new Scene()
    scene.autopilot.start()
    await scene.pass(STABLE_MS - 500)
    scene.silent = true
    await scene.pass(400)
    expect(scene.autopilot.members.find((m) => m.id === '2')?.healthy).toBe(false)
    scene.silent = false
    await scene.pass(STABLE_MS)
    expect(scene.proposals).toEqual([])
    await scene.pass(100)
    expect(scene.proposals).toHaveLength(1)
  })

  it('should forget every member when this peer stops leading', async () => {
    const scene = new Scene()
    scene.autopilot.start()
    await scene.pass(STABLE_MS - 100)
    scene.role = 'follower'
    await scene.pass(100)
    expect(scene.autopilot.members).toEqual([])
    scene.role = 'leader'
    await scene.pass(STABLE_MS)
    expect(scene.proposals).toEqual([])
    await scene.pass(100)
    expect(scene.proposals).toHaveLength(1)
  })

  it('should stop reviewing and abort the proposal in flight when stopped', async () => {
    const scene = new Scene()
    scene.outcome = 'hang'
    scene.autopilot.start()
    scene.autopilot.start()
    expect(scene.timer.scheduled).toBe(1)
    await scene.pass(STABLE_MS + 100)
    scene.autopilot.stop()
    expect(scene.timer.scheduled).toBe(0)
    expect(scene.proposals[0]?.signal.aborted).toBe(true)
    expect(scene.autopilot.members).toEqual([])
  })

  it('should refuse an invalid config when created', () => {
    const config = { voterTarget: 4 as 3 }
    expect(() => new Scene({ config })).toThrow(AutopilotConfigError)
  })

  it('should run the callback until cancelled when the system timer is used', async () => {
    let runs = 0
    await new Promise<void>((resolve) => {
      const cancel = systemIntervalTimer.every(1, () => {
        runs++
        if (runs < 3) return
        cancel()
        resolve()
      })
    })
    // A second timer of the same interval runs three times more: the cancelled one, not once.
    await new Promise<void>((resolve) => {
      let others = 0
      const cancel = systemIntervalTimer.every(1, () => {
        if (++others < 3) return
        cancel()
        resolve()
      })
    })
    expect(runs).toBe(3)
  })
})
