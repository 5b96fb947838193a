import { describe, expect, it } from 'vitest'
import { SeededRandom } from '../../ledger/raft/index.ts'
import { Checkers } from './checkers.ts'
import { Clients } from './clients.ts'
import type { ClientHost } from './clients.ts'
import { drawProfile } from './profile.ts'
import { decodeProposal } from './proposal.ts'
import type { Proposal } from './proposal.ts'
import { MemoryDisk } from './sim-disk.ts'
import { SimNode } from './sim-node.ts'
import type { SimNodeHost } from './sim-node.ts'

const TIMEOUT_TICKS = 20

/** A lone voter that leads, and the proposals that reach its log. */
function leader(): { node: SimNode; appended: Proposal[] } {
  const appended: Proposal[] = []
  const host: SimNodeHost = {
    checkers: new Checkers(),
    snapshotEveryEntries: 1000,
    retainEntries: 0,
    replicaOptions: {},
    send: () => {},
    applied: () => {},
    readDone: () => {},
    snapshotReport: () => {},
    config: () => ({ random: new SeededRandom(1), electionTicks: 10, heartbeatTicks: 1 }),
    crashAfterPersist: (_node, ready) => {
      for (const entry of ready.entries) {
        if (entry.type === 'normal' && entry.data.byteLength > 0) {
          appended.push(decodeProposal(entry.data))
        }
      }
      return false
    },
    track: () => {},
  }
  const node = new SimNode('n1', new MemoryDisk({ voters: ['n1'], learners: [] }), host)
  node.start()
  node.node?.campaign()
  node.processReadies()
  return { node, appended }
}

describe('Clients', () => {
  it('should resend an unanswered proposal with its id and first stamp after the timeout', () => {
    const { node, appended } = leader()
    let now = 0
    const random = new SeededRandom(3)
    const profile = { ...drawProfile(random), clientTimeoutTicks: TIMEOUT_TICKS }
    const host: ClientHost = {
      random,
      profile,
      checkers: new Checkers(),
      get now() {
        return now
      },
      leaders: () => [node],
      reachable: () => [node],
    }
    const clients = new Clients(host)
    clients.propose()
    node.processReadies()
    const first = appended.slice()
    expect(first.length).toBeGreaterThan(0)
    // This host tells no client that its proposals applied: every one still waits.
    clients.outstanding.forEach((waiting) => expect(waiting.attempts).toBe(1))
    now = TIMEOUT_TICKS - 1
    clients.retry()
    expect(clients.retries).toBe(0)
    now = TIMEOUT_TICKS
    while (clients.retries === 0) clients.retry()
    node.processReadies()
    const resent = appended.slice(first.length)
    expect(resent).toHaveLength(1)
    const [again] = resent as [Proposal]
    const original = first.find((proposal) => proposal.id === again.id)
    expect(original).toBeDefined()
    expect(again.proposedAt).toBe(original?.proposedAt)
    expect(again.command).toEqual(original?.command)
    expect(again.logTime).toBeGreaterThan(again.proposedAt)
  })
})
