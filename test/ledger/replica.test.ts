// The replica over real LevelDB (classic-level in a temp dir): group commit, durability across
// a reopen, snapshots that bound the replayed log, and refusal after stop.
import { ClassicLevel } from 'classic-level'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  encodeState,
  LevelCommandLog,
  ledgerViolations,
  Replica,
  ReplicaStoppedError,
} from '../../ledger/index.ts'
import type { CommandLog, Entry } from '../../ledger/index.ts'
import { jobSpecSchema, SESSION_IDLE_MS } from '../../protocol/index.ts'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gridx-replica-'))
  dirs.push(dir)
  return dir
}

/** A LevelDB log that counts its appends, to see batching. */
function countingLog(path: string): { log: CommandLog; appends: Entry[][] } {
  const inner = new LevelCommandLog(new ClassicLevel<string, string>(path))
  const appends: Entry[][] = []
  const log: CommandLog = {
    open: () => inner.open(),
    append: async (entries) => {
      appends.push([...entries])
      await inner.append(entries)
    },
    saveSnapshot: (index, encoded) => inner.saveSnapshot(index, encoded),
    getMeta: (key) => inner.getMeta(key),
    putMeta: (key, value) => inner.putMeta(key, value),
    close: () => inner.close(),
  }
  return { log, appends }
}

const clock = { now: () => 1_700_000_000_000 }
const spec = jobSpecSchema.parse({ runtime: 'python', code: 'print(1)', cpus: 0.1, memoryMb: 16 })

describe('Replica', () => {
  it('should persist proposals made in the same tick in one batch', async () => {
    const { log, appends } = countingLog(join(await tempDir(), 'db'))
    const replica = new Replica({ log, clock, proposer: 'peer-a' })
    await replica.start()
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((account) => replica.propose({ type: 'account.open', account })),
    )
    expect(results.every((result) => result.ok)).toBe(true)
    expect(appends.map((batch) => batch.length)).toEqual([4])
    await replica.stop()
  })

  it('should hold every acknowledged command after a reopen', async () => {
    const path = join(await tempDir(), 'db')
    const first = new Replica({
      log: new LevelCommandLog(new ClassicLevel(path)),
      clock,
      proposer: 'peer-a',
    })
    await first.start()
    await first.propose({ type: 'account.open', account: 'alice' })
    const submitted = await first.propose({
      type: 'job.submit',
      jobId: 'jaaaaaaaaaaaa',
      submitter: 'alice',
      idempotencyId: 'one',
      spec,
    })
    expect(submitted.ok).toBe(true)
    const before = encodeState(first.state)
    await first.stop()

    const second = new Replica({
      log: new LevelCommandLog(new ClassicLevel(path)),
      clock,
      proposer: 'peer-a',
    })
    await second.start()
    expect(encodeState(second.state)).toBe(before)
    expect(ledgerViolations(second.state)).toEqual([])
    await second.stop()
  })

  it('should replay only the entries after the newest snapshot', async () => {
    const path = join(await tempDir(), 'db')
    const first = new Replica({
      log: new LevelCommandLog(new ClassicLevel(path)),
      clock,
      proposer: 'peer-a',
      snapshotEveryEntries: 5,
    })
    await first.start()
    for (let i = 0; i < 12; i++) await first.propose({ type: 'account.open', account: `a${i}` })
    const before = encodeState(first.state)
    await first.stop()

    const { log, appends } = countingLog(path)
    const stored = await log.open()
    expect(stored.snapshot?.index).toBe(10)
    expect(stored.entries.map((entry) => entry.index)).toEqual([11, 12])
    await log.close()
    expect(appends).toEqual([])

    const second = new Replica({
      log: new LevelCommandLog(new ClassicLevel(path)),
      clock,
      proposer: 'peer-a',
    })
    await second.start()
    expect(encodeState(second.state)).toBe(before)
    await second.stop()
  })

  it('should stamp log time that never goes backwards when the clock does', async () => {
    let now = 2_000
    const replica = new Replica({
      log: new LevelCommandLog(new ClassicLevel(join(await tempDir(), 'db'))),
      clock: { now: () => now },
      proposer: 'peer-a',
    })
    await replica.start()
    await replica.propose({ type: 'account.open', account: 'a' })
    now = 1_000
    await replica.propose({ type: 'account.open', account: 'b' })
    expect(replica.state.logTime).toBe(2_000)
    await replica.stop()
  })

  it('should refuse proposals after stop', async () => {
    const replica = new Replica({
      log: new LevelCommandLog(new ClassicLevel(join(await tempDir(), 'db'))),
      clock,
      proposer: 'peer-a',
    })
    await replica.start()
    await replica.stop()
    await expect(replica.propose({ type: 'account.open', account: 'a' })).rejects.toBeInstanceOf(
      ReplicaStoppedError,
    )
  })

  it('should name every proposal by a session of its proposer and incarnation, and a sequence', async () => {
    const path = join(await tempDir(), 'db')
    for (const incarnation of [1, 2]) {
      const { log, appends } = countingLog(path)
      const replica = new Replica({ log, clock, proposer: 'peer-a' })
      await replica.start()
      await replica.propose({ type: 'account.open', account: 'a' })
      await replica.propose({ type: 'account.open', account: 'b' })
      const session = `peer-a/${incarnation}/1`
      expect(appends.flat().map((entry) => entry.proposal)).toEqual([
        { session, sequence: 1, acknowledged: 0, proposedAt: clock.now() },
        { session, sequence: 2, acknowledged: 1, proposedAt: clock.now() },
      ])
      await replica.stop()
    }
  })

  it('should open a fresh session and not be refused when it proposes after a silence', async () => {
    const moving = { nowMs: clock.now(), now: () => moving.nowMs }
    const path = join(await tempDir(), 'db')
    const { log, appends } = countingLog(path)
    const replica = new Replica({ log, clock: moving, proposer: 'peer-a' })
    await replica.start()
    expect((await replica.propose({ type: 'account.open', account: 'a' })).ok).toBe(true)
    // Another proposer's entry carries log time past the idle limit: ours would be forgotten.
    moving.nowMs += SESSION_IDLE_MS + 1
    const result = await replica.propose({ type: 'account.open', account: 'b' })
    expect(result.ok).toBe(true)
    expect(appends.flat().map((entry) => entry.proposal.session)).toEqual([
      'peer-a/1/1',
      'peer-a/1/2',
    ])
    await replica.stop()
  })

  it('should apply once and answer with the first result when a proposal comes again', async () => {
    const replica = new Replica({
      log: new LevelCommandLog(new ClassicLevel(join(await tempDir(), 'db'))),
      clock,
      proposer: 'peer-a',
    })
    await replica.start()
    await replica.propose({ type: 'account.open', account: 'alice' })
    const command = {
      type: 'job.submit',
      jobId: 'jaaaaaaaaaaaa',
      submitter: 'alice',
      idempotencyId: 'one',
      spec,
    } as const
    const proposal = replica.nextProposal()
    const first = await replica.propose(command, proposal)
    const balance = replica.state.accounts.get('alice')?.balanceMc
    const again = await replica.propose(command, proposal)
    expect(again).toEqual({ ...first, replayed: true })
    expect(replica.state.accounts.get('alice')?.balanceMc).toBe(balance)
    expect(replica.state.appliedIndex).toBe(3)
    await replica.stop()
  })

  it('should restart when the stored log holds entries written before proposal ids', async () => {
    const path = join(await tempDir(), 'db')
    const legacy = new LevelCommandLog(new ClassicLevel(path))
    await legacy.open()
    const command = { type: 'account.open', account: 'alice' } as const
    await legacy.append([{ index: 1, logTime: clock.now(), command } as unknown as Entry])
    await legacy.close()
    const replica = new Replica({
      log: new LevelCommandLog(new ClassicLevel(path)),
      clock,
      proposer: 'peer-a',
    })
    await replica.start()
    expect(replica.state.accounts.has('alice')).toBe(true)
    expect((await replica.propose({ type: 'account.open', account: 'bob' })).ok).toBe(true)
    await replica.stop()
  })

  it('should snapshot and drop the log when new entries pass a byte bound', async () => {
    const path = join(await tempDir(), 'db')
    const replica = new Replica({
      log: new LevelCommandLog(new ClassicLevel(path)),
      clock,
      proposer: 'peer-a',
      snapshotEveryBytes: 1024 * 1024,
    })
    await replica.start()
    await replica.propose({ type: 'account.open', account: 'alice' })
    const code = `# ${'x'.repeat(100 * 1024)}`
    for (let i = 0; i < 30; i++) {
      const submitted = await replica.propose({
        type: 'job.submit',
        jobId: `jaaaaaaaaa${String(i).padStart(3, '0')}`,
        submitter: 'alice',
        idempotencyId: `job-${i}`,
        spec: { ...spec, code },
      })
      expect(submitted.ok).toBe(true)
      await replica.propose({
        type: 'job.cancel',
        jobId: `jaaaaaaaaa${String(i).padStart(3, '0')}`,
        by: 'alice',
      })
    }
    const before = encodeState(replica.state)
    await replica.stop()
    const log = new LevelCommandLog(new ClassicLevel(path))
    const stored = await log.open()
    await log.close()
    // About ten submissions of 100 KiB fill a megabyte; the log never holds many more.
    expect(stored.snapshot).not.toBeNull()
    const bytes = stored.entries.reduce((sum, entry) => sum + JSON.stringify(entry).length, 0)
    expect(bytes).toBeLessThan(1024 * 1024)
    // Ended jobs left their code out of the snapshot: it holds at most the one job still open.
    expect(stored.snapshot?.encoded.length).toBeLessThan(2 * code.length)
    const again = new Replica({
      log: new LevelCommandLog(new ClassicLevel(path)),
      clock,
      proposer: 'peer-a',
    })
    await again.start()
    expect(encodeState(again.state)).toBe(before)
    await again.stop()
  })
})
