import { describe, expect, it } from 'vitest'
import { SeededRandom, message } from '../../ledger/raft/index.ts'
import type { ConfState, Message } from '../../ledger/raft/index.ts'
import { Checkers } from './checkers.ts'
import { Replica } from './replica.ts'
import { LevelDisk, MemoryDisk } from './sim-disk.ts'
import type { SimDisk } from './sim-disk.ts'
import { SimNode } from './sim-node.ts'
import type { SimNodeHost } from './sim-node.ts'

const ELECTION_TICKS = 10

/** A host that records what nodes send and report, and runs their async work to the end. */
class RecordingHost implements SimNodeHost {
  readonly checkers = new Checkers()
  readonly sent: Message[] = []
  readonly reports: { from: string; to: string; delivered: boolean }[] = []
  readonly work: Promise<void>[] = []
  readonly snapshotEveryEntries = 1000
  readonly retainEntries = 0
  readonly replicaOptions = {}
  send(sent: Message): void {
    this.sent.push(sent)
  }
  applied(): void {}
  readDone(): void {}
  snapshotReport(from: string, to: string, delivered: boolean): void {
    this.reports.push({ from, to, delivered })
  }
  config(id: string): ReturnType<SimNodeHost['config']> {
    return {
      random: new SeededRandom(id.charCodeAt(1)),
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 1,
      preVote: false,
      checkQuorum: false,
    }
  }
  crashAfterPersist(): boolean {
    return false
  }
  track(work: Promise<void>): void {
    this.work.push(work)
  }
}

const PAIR: ConfState = { voters: ['n1', 'n2'], learners: [] }

function node(host: RecordingHost, id: string, disk: SimDisk, tickRate = 1): SimNode {
  const created = new SimNode(id, disk, host, tickRate)
  created.start()
  return created
}

/** Lets every queued promise job run. */
function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

describe('SimNode', () => {
  it('should hold messages while paused and handle them in order when it resumes', () => {
    const host = new RecordingHost()
    const n2 = node(host, 'n2', new MemoryDisk(PAIR))
    n2.pause(5)
    n2.receive(message('vote', 'n1', 'n2', { term: 7, index: 10, logTerm: 7 }))
    n2.tick(4)
    expect(n2.node?.status().term).toBe(1)
    n2.tick(5)
    expect(n2.paused).toBe(false)
    expect(n2.node?.status()).toMatchObject({ term: 7, vote: 'n1' })
  })

  it('should tick its core at its own rate when its clock runs fast or slow', () => {
    const host = new RecordingHost()
    const lone: ConfState = { voters: ['n1'], learners: [] }
    const fast = node(host, 'n1', new MemoryDisk(lone), 2)
    const slow = node(host, 'n1', new MemoryDisk(lone), 0.5)
    // A timeout is drawn from [10, 20) own ticks: 10 simulated ticks are 20 fast, 5 slow.
    for (let now = 0; now < ELECTION_TICKS; now++) {
      for (const each of [fast, slow]) {
        each.tick(now)
        each.processReadies()
      }
    }
    expect(fast.node?.status().role).toBe('leader')
    expect(slow.node?.status().role).toBe('follower')
  })

  it('should report a snapshot delivered only once its write has landed', async () => {
    const host = new RecordingHost()
    const disk = new LevelDisk(undefined, {})
    const learner = node(host, 'n3', disk)
    await Promise.all(host.work)
    const ledger = new Replica()
    ledger.skip(10)
    const snapshot = {
      metadata: { index: 10, term: 2, confState: { voters: ['n1'], learners: ['n3'] } },
      data: ledger.encode(),
    }
    learner.receive(message('snapshot', 'n1', 'n3', { term: 2, snapshot }))
    learner.processReadies()
    await drain()
    expect(disk.held()).toBe(1)
    expect(host.reports).toEqual([])
    await disk.release(0)
    await drain()
    expect(host.reports).toEqual([{ from: 'n1', to: 'n3', delivered: true }])
    expect(learner.appliedIndex).toBe(10)
  })

  it('should report a snapshot lost when the node crashes before its write lands', async () => {
    const host = new RecordingHost()
    const disk = new LevelDisk(undefined, {})
    const learner = node(host, 'n3', disk)
    await Promise.all(host.work)
    const ledger = new Replica()
    ledger.skip(10)
    const snapshot = {
      metadata: { index: 10, term: 2, confState: { voters: ['n1'], learners: ['n3'] } },
      data: ledger.encode(),
    }
    learner.receive(message('snapshot', 'n1', 'n3', { term: 2, snapshot }))
    learner.processReadies()
    learner.crash()
    expect(host.reports).toEqual([{ from: 'n1', to: 'n3', delivered: false }])
  })

  it('should report a snapshot lost when the node crashes paused with it unread', async () => {
    const host = new RecordingHost()
    const learner = node(host, 'n3', new MemoryDisk({ voters: ['n1'], learners: ['n3'] }))
    await Promise.all(host.work)
    const ledger = new Replica()
    ledger.skip(10)
    const snapshot = {
      metadata: { index: 10, term: 2, confState: { voters: ['n1'], learners: ['n3'] } },
      data: ledger.encode(),
    }
    learner.pause(100)
    learner.receive(message('snapshot', 'n1', 'n3', { term: 2, snapshot }))
    learner.receive(message('heartbeat', 'n1', 'n3', { term: 2 }))
    learner.crash()
    // The stream broke with the process: unless the sender hears so, it waits for it forever.
    expect(host.reports).toEqual([{ from: 'n1', to: 'n3', delivered: false }])
  })
})
