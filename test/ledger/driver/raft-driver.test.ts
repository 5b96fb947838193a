// The Raft driver with one and three instances over the in-memory transport, each on real
// LevelDB in a temp dir (test/fixtures/raft-mesh.ts), ticked by hand.
import { afterEach, describe, expect, it } from 'vitest'
import {
  changeMembership,
  encodeState,
  LevelRaftStorage,
  NoLeaderError,
  proposalKey,
  stepDown,
} from '../../../ledger/index.ts'
import type { ApplyResult, Command } from '../../../ledger/index.ts'
import {
  RAFT_HEARTBEAT_TICKS_DEFAULT,
  RAFT_LEARNER_HEARTBEAT_TICKS_DEFAULT,
} from '../../../protocol/index.ts'
import { RaftMesh } from '../../fixtures/raft-mesh.ts'
import type { MeshPeer } from '../../fixtures/raft-mesh.ts'

const meshes: RaftMesh[] = []
afterEach(async () => {
  for (const mesh of meshes.splice(0)) await mesh.close()
})

async function mesh(voters: string[], snapshot = {}): Promise<RaftMesh> {
  const created = await RaftMesh.create(voters, snapshot)
  meshes.push(created)
  return created
}

const open = (account: string): Command => ({ type: 'account.open', account })

/** Every live peer at the same applied index with the same encoded state. */
function agreed(m: RaftMesh): boolean {
  const states = m.live().map((peer) => peer.driver.localRead())
  const index = states[0]?.appliedIndex
  return states.every(
    (state) =>
      state.appliedIndex === index && encodeState(state) === encodeState(states[0] ?? state),
  )
}

describe('RaftDriver', () => {
  it('should apply a proposal at the Raft index when a lone voter takes it', async () => {
    const m = await mesh(['a'])
    const a = m.peer('a').driver
    const result = await m.settle(a.propose(open('alice')))
    expect(result).toEqual({ ok: true, value: { created: true } })
    const state = await m.settle(a.read())
    expect(state.accounts.has('alice')).toBe(true)
    // Index 1 is the bootstrap membership, 2 the leader's no-op, 3 the proposal.
    expect(state.appliedIndex).toBe(3)
    expect(a.status()).toMatchObject({ role: 'leader', applied: 3, commit: 3 })
  })

  it('should replicate to every voter when three voters run', async () => {
    const m = await mesh(['a', 'b', 'c'])
    await m.until(() => m.leader() !== undefined)
    const leader = m.leader()?.driver
    if (leader === undefined) throw new Error('no leader')
    for (const account of ['alice', 'bob', 'carol']) {
      expect((await m.settle(leader.propose(open(account)))).ok).toBe(true)
    }
    await m.until(() => agreed(m))
    for (const peer of m.live()) expect(peer.driver.localRead().accounts.has('carol')).toBe(true)
  })

  it('should append together the proposals of two callbacks of one event loop turn', async () => {
    const m = await mesh(['a', 'b', 'c'])
    await m.until(() => m.leader() !== undefined)
    const leader = m.leader()
    if (leader === undefined) throw new Error('no leader')
    const follower = m.live().find((peer) => peer !== leader) as MeshPeer
    const appends: number[] = []
    m.network.onSend = (from, message) => {
      const carried = message.type === 'append' ? message.entries.length : 0
      if (from === leader.id && message.to === follower.id && carried > 0) appends.push(carried)
    }
    // Two I/O callbacks of one poll phase, as two requests read from two sockets would be.
    const results = await new Promise<Promise<ApplyResult>[]>((resolve) => {
      const proposed: Promise<ApplyResult>[] = []
      setImmediate(() => proposed.push(leader.driver.propose(open('alice'))))
      setImmediate(() => resolve([...proposed, leader.driver.propose(open('bob'))]))
    })
    for (const result of results) expect((await m.settle(result)).ok).toBe(true)
    expect(appends).toEqual([2])
  })

  it('should append a proposal once when the leader waits long for its commit', async () => {
    const m = await mesh(['a', 'b', 'c'])
    await m.until(() => m.leader() !== undefined)
    const leader = m.leader() as MeshPeer
    // The followers store the entries but their answers are lost: no commit, and yet their
    // heartbeat answers keep the leader in office (CheckQuorum).
    m.network.drop = (_from, message) => message.type === 'append-response'
    const appended = new Set<number>()
    m.network.onSend = (from, message) => {
      if (from !== leader.id || message.type !== 'append') return
      for (const entry of message.entries) if (entry.data.byteLength > 0) appended.add(entry.index)
    }
    const result = leader.driver.propose(open('alice'))
    for (let tick = 0; tick < 3 * leader.driver.retryTicks; tick++) await m.tick()
    expect(leader.driver.status().role).toBe('leader')
    m.network.drop = undefined
    expect((await m.settle(result)).ok).toBe(true)
    expect(appended.size).toBe(1)
  })

  it('should resolve the caller when a follower proposes and the leader commits', async () => {
    const m = await mesh(['a', 'b', 'c'])
    await m.until(() => m.leader() !== undefined)
    const follower = m.live().find((peer) => peer.driver.status().role === 'follower')
    if (follower === undefined) throw new Error('no follower')
    const result = await m.settle(follower.driver.propose(open('alice')))
    expect(result).toEqual({ ok: true, value: { created: true } })
    expect(follower.driver.localRead().accounts.has('alice')).toBe(true)
  })

  it('should elect another leader and apply in-flight proposals once when the leader dies', async () => {
    const m = await mesh(['a', 'b', 'c'])
    await m.until(() => m.leader() !== undefined)
    const old = m.leader()
    const follower = m.live().find((peer) => peer !== old)
    if (old === undefined || follower === undefined) throw new Error('no leader')
    const applied = new Map<string, number>()
    for (const peer of m.live()) {
      peer.driver.onApplied((entry, result: ApplyResult) => {
        if (result.replayed === true) return
        const key = `${peer.id} ${proposalKey(entry.proposal)}`
        applied.set(key, (applied.get(key) ?? 0) + 1)
      })
    }
    const proposals = ['p1', 'p2', 'p3', 'p4', 'p5'].map((name) => {
      const proposal = follower.driver.nextProposal()
      return { proposal, result: follower.driver.propose(open(name), { proposal }) }
    })
    // Let the forward reach the leader (it may append, replicate or even commit), then die.
    await follower.driver.nextTurn()
    await new Promise((resolve) => setImmediate(resolve))
    await m.kill(old.id)
    for (const { result } of proposals) expect((await m.settle(result, 400)).ok).toBe(true)
    expect(m.leader()?.id).not.toBe(old.id)
    await m.until(() => agreed(m))
    for (const peer of m.live()) {
      for (const { proposal } of proposals) {
        expect(applied.get(`${peer.id} ${proposalKey(proposal)}`), peer.id).toBe(1)
      }
    }
    // The same id once more: answered, not applied again.
    const again = await m.settle(
      follower.driver.propose(open('p1'), { proposal: proposals[0]?.proposal }),
    )
    expect(again.replayed).toBe(true)
  })

  it('should read on a follower what the leader acknowledged when the read is linearizable', async () => {
    const m = await mesh(['a', 'b', 'c'])
    await m.until(() => m.leader() !== undefined)
    const leader = m.leader()
    const follower = m.live().find((peer) => peer !== leader)
    if (leader === undefined || follower === undefined) throw new Error('no leader')
    for (let i = 0; i < 5; i++) {
      const account = `acct-${i}`
      expect((await m.settle(leader.driver.propose(open(account)))).ok).toBe(true)
      const state = await m.settle(follower.driver.read())
      expect(state.accounts.has(account)).toBe(true)
    }
  })

  it('should confirm reads asked together with one ReadIndex when a follower asks', async () => {
    const m = await mesh(['a', 'b', 'c'])
    await m.until(() => m.leader() !== undefined)
    const leader = m.leader()
    const follower = m.live().find((peer) => peer !== leader)
    if (leader === undefined || follower === undefined) throw new Error('no leader')
    expect((await m.settle(leader.driver.propose(open('alice')))).ok).toBe(true)
    await m.settle(follower.driver.read())
    let requests = 0
    m.network.onSend = (from, message) => {
      if (from === follower.id && message.type === 'read-index') requests++
    }
    const states = await m.settle(
      Promise.all(Array.from({ length: 50 }, () => follower.driver.read())),
    )
    for (const state of states) expect(state.accounts.has('alice')).toBe(true)
    // One round confirms them all (etcd's server batches reads the same way); a second may
    // go if a tick's resend falls in between.
    expect(requests).toBeGreaterThanOrEqual(1)
    expect(requests).toBeLessThanOrEqual(2)
  })

  it('should restart from its snapshot and a bounded log when the log was compacted', async () => {
    const m = await mesh(['a'], { everyEntries: 10, retainEntries: 2 })
    const a = m.peer('a')
    for (let i = 0; i < 35; i++) {
      expect((await m.settle(a.driver.propose(open(`acct-${i}`)))).ok).toBe(true)
    }
    const before = encodeState(a.driver.localRead())
    await m.kill('a')
    // What a restart replays: the log above the last snapshot, less the entries kept below it.
    const storage = await LevelRaftStorage.open(a.dir)
    expect(storage.firstIndex()).toBeGreaterThan(25)
    expect(storage.snapshot().metadata.index).toBeGreaterThanOrEqual(30)
    await storage.close()
    const restarted = await m.restart('a')
    await m.until(() => restarted.driver.status().role === 'leader')
    await m.settle(restarted.driver.read())
    const after = restarted.driver.localRead()
    expect(after.accounts.has('acct-34')).toBe(true)
    // The restart applied the new term's no-op on top of the same ledger.
    const same = JSON.parse(encodeState(after)) as Record<string, unknown>
    const old = JSON.parse(before) as Record<string, unknown>
    expect({ ...same, appliedIndex: 0 }).toEqual({ ...old, appliedIndex: 0 })
    expect(after.appliedIndex).toBeGreaterThan(35)
  })

  it('should catch a new learner up by snapshot when the log it needs is compacted', async () => {
    const m = await mesh(['a'], { everyEntries: 5, retainEntries: 1 })
    const a = m.peer('a').driver
    for (let i = 0; i < 20; i++) {
      expect((await m.settle(a.propose(open(`acct-${i}`)))).ok).toBe(true)
    }
    const learner = await m.join('l')
    await m.settle(changeMembership(a, { type: 'add-learner', node: 'l' }))
    await m.until(() => learner.driver.localRead().appliedIndex === a.localRead().appliedIndex)
    expect(encodeState(learner.driver.localRead())).toBe(encodeState(a.localRead()))
    expect(learner.driver.status().appliedConf.learners).toEqual(['l'])
  })

  it('should heartbeat a learner at the learner rate and a voter at the voter rate', async () => {
    const m = await mesh(['a', 'b'])
    await m.until(() => m.leader() !== undefined)
    const leader = m.leader()
    if (leader === undefined) throw new Error('no leader')
    const voter = leader.id === 'a' ? 'b' : 'a'
    const learner = await m.join('l')
    await m.settle(changeMembership(leader.driver, { type: 'add-learner', node: 'l' }))
    await m.until(() => learner.driver.localRead().appliedIndex === leader.driver.status().commit)
    const heartbeats = new Map<string, number>()
    m.network.onSend = (from, message) => {
      if (from !== leader.id || message.type !== 'heartbeat') return
      heartbeats.set(message.to, (heartbeats.get(message.to) ?? 0) + 1)
    }
    const ticks = 4 * RAFT_LEARNER_HEARTBEAT_TICKS_DEFAULT
    for (let i = 0; i < ticks; i++) await m.tick()
    // Each counter may be one interval into its cycle when the count starts.
    const perTicks = (interval: number): number[] => [ticks / interval - 1, ticks / interval]
    expect(perTicks(RAFT_HEARTBEAT_TICKS_DEFAULT)).toContain(heartbeats.get(voter))
    expect(perTicks(RAFT_LEARNER_HEARTBEAT_TICKS_DEFAULT)).toContain(heartbeats.get('l'))
    expect(learner.driver.status().commit).toBe(leader.driver.status().commit)
  })

  it('should promote a caught-up learner to voter and remove it again', async () => {
    const m = await mesh(['a'])
    const a = m.peer('a').driver
    expect((await m.settle(a.propose(open('alice')))).ok).toBe(true)
    const learner = await m.join('l')
    await m.settle(changeMembership(a, { type: 'add-learner', node: 'l' }))
    await m.settle(changeMembership(a, { type: 'add-voter', node: 'l' }))
    expect(a.status().appliedConf.voters).toEqual(['a', 'l'])
    // Two voters now: a commit needs the new one too.
    expect((await m.settle(a.propose(open('bob')))).ok).toBe(true)
    await m.until(() => learner.driver.localRead().accounts.has('bob'))
    await m.settle(changeMembership(a, { type: 'remove-node', node: 'l' }))
    expect(a.status().appliedConf).toEqual({ voters: ['a'], learners: [] })
  })

  it('should tell leadership listeners when a peer becomes leader', async () => {
    const m = await mesh(['a', 'b', 'c'])
    const events: string[] = []
    for (const peer of m.live()) {
      peer.driver.onLeadership((leading) => events.push(`${peer.id}:${leading}`))
    }
    await m.until(() => m.leader() !== undefined)
    expect(events).toEqual([`${m.leader()?.id}:true`])
  })

  it('should hand leadership to another voter when the leader steps down', async () => {
    const m = await mesh(['a', 'b', 'c'])
    await m.until(() => m.leader() !== undefined)
    const old = m.leader()
    if (old === undefined) throw new Error('no leader')
    expect((await m.settle(old.driver.propose(open('alice')))).ok).toBe(true)
    await m.settle(stepDown(old.driver))
    const next = m.leader()
    expect(next?.id).toBeDefined()
    expect(next?.id).not.toBe(old.id)
    expect((await m.settle(old.driver.propose(open('bob')))).ok).toBe(true)
  })

  it('should fail with a retryable NoLeaderError when no quorum answers', async () => {
    const m = await mesh(['a', 'b', 'c'])
    await m.kill('b')
    await m.kill('c')
    const error = await m
      .settle(m.peer('a').driver.propose(open('alice'), { timeoutMs: 100 }), 100_000)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(NoLeaderError)
    expect((error as NoLeaderError).retryable).toBe(true)
  })
})
