// One contract suite for every RaftStorage: the in-memory one, LevelDB in a temp dir, and the
// same LevelRaftStorage code over memory-level, as the simulator runs it.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import { CompactedError, UnavailableError, bootstrapState } from '../../../ledger/raft/index.ts'
import type { ConfState, Entry, RaftStorage, Snapshot } from '../../../ledger/raft/index.ts'
import { LevelRaftStorage } from '../../../ledger/storage/raft-level-storage.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/raft-memory-storage.ts'

interface Subject {
  readonly storage: RaftStorage
  /** Closes and opens again from the medium: memory has none, so it is the same object. */
  reopen(): Promise<RaftStorage>
  close(): Promise<void>
}

type Factory = () => Promise<Subject>

const directories: string[] = []

afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true })
})

const factories: [string, Factory][] = [
  [
    'MemoryRaftStorage',
    () => {
      const storage = new MemoryRaftStorage()
      return Promise.resolve({
        storage,
        reopen: () => Promise.resolve(storage),
        close: () => Promise.resolve(),
      })
    },
  ],
  [
    'LevelRaftStorage',
    async () => {
      const directory = await mkdtemp(join(tmpdir(), 'gridx-raft-'))
      directories.push(directory)
      let storage = await LevelRaftStorage.open(directory)
      return {
        get storage() {
          return storage
        },
        async reopen() {
          await storage.close()
          storage = await LevelRaftStorage.open(directory)
          return storage
        },
        close: () => storage.close(),
      }
    },
  ],
  [
    'LevelRaftStorage over memory-level',
    async () => {
      const db = new MemoryLevel<string, Uint8Array>()
      let storage = await LevelRaftStorage.openDb(db)
      return {
        get storage() {
          return storage
        },
        async reopen() {
          await storage.close()
          storage = await LevelRaftStorage.openDb(db)
          return storage
        },
        close: () => storage.close(),
      }
    },
  ],
]

const conf: ConfState = { voters: ['1', '2', '3'], learners: ['4'] }

function entries(from: number, to: number, term: number): Entry[] {
  const result: Entry[] = []
  for (let index = from; index <= to; index++) {
    result.push({ index, term, type: 'normal', data: new TextEncoder().encode(`e${index}`) })
  }
  return result
}

function snapshotAt(index: number, term: number, data = 'state'): Snapshot {
  return { metadata: { index, term, confState: conf }, data: new TextEncoder().encode(data) }
}

describe.each(factories)('RaftStorage contract: %s', (_name, create) => {
  it('should start empty and without members when new', async () => {
    const subject = await create()
    const { storage } = subject
    expect(storage.firstIndex()).toBe(1)
    expect(storage.lastIndex()).toBe(0)
    expect(storage.term(0)).toBe(0)
    expect(storage.initialState().confState).toEqual({ voters: [], learners: [] })
    expect(storage.initialState().hardState).toEqual({ term: 0, vote: '', commit: 0 })
    await subject.close()
  })

  it('should hold the founding membership when bootstrapped', async () => {
    const subject = await create()
    await subject.storage.save({ ...bootstrapState(conf), snapshot: undefined }, { sync: true })
    const storage = await subject.reopen()
    expect(storage.lastIndex()).toBe(4)
    expect(storage.initialState().hardState).toEqual({ term: 1, vote: '', commit: 4 })
    expect(storage.entries(1, 5, Infinity).every((e) => e.type === 'conf-change')).toBe(true)
    await subject.close()
  })

  it('should return saved entries and hard state when read back after reopening', async () => {
    const subject = await create()
    const hardState = { term: 2, vote: '1', commit: 3 }
    await subject.storage.save(
      { hardState, entries: entries(1, 5, 2), snapshot: undefined },
      { sync: true },
    )
    const storage = await subject.reopen()
    expect(storage.lastIndex()).toBe(5)
    expect(storage.entries(2, 4, Infinity)).toEqual(entries(2, 3, 2))
    expect(storage.term(5)).toBe(2)
    expect(storage.initialState().hardState).toEqual(hardState)
    await subject.close()
  })

  it('should return at least one entry when the byte limit is smaller than an entry', async () => {
    const subject = await create()
    await subject.storage.save(
      { hardState: undefined, entries: entries(1, 5, 1), snapshot: undefined },
      { sync: true },
    )
    expect(subject.storage.entries(1, 6, 1)).toHaveLength(1)
    expect(subject.storage.entries(1, 6, 2 * (16 + 2))).toHaveLength(2)
    await subject.close()
  })

  it('should replace a conflicting suffix when entries overlap the log', async () => {
    const subject = await create()
    await subject.storage.save(
      { hardState: undefined, entries: entries(1, 5, 1), snapshot: undefined },
      { sync: true },
    )
    await subject.storage.save(
      { hardState: undefined, entries: entries(3, 3, 2), snapshot: undefined },
      { sync: true },
    )
    const storage = await subject.reopen()
    expect(storage.lastIndex()).toBe(3)
    expect([storage.term(2), storage.term(3)]).toEqual([1, 2])
    expect(() => storage.term(4)).toThrow(UnavailableError)
    await subject.close()
  })

  it('should keep retained entries and answer term(first - 1) when compacted', async () => {
    const subject = await create()
    await subject.storage.save(
      { hardState: undefined, entries: entries(1, 10, 1), snapshot: undefined },
      { sync: true },
    )
    await subject.storage.compact(snapshotAt(8, 1), 3)
    const storage = await subject.reopen()
    expect(storage.firstIndex()).toBe(6)
    expect(storage.term(5)).toBe(1)
    expect(() => storage.term(4)).toThrow(CompactedError)
    expect(() => storage.entries(5, 7, Infinity)).toThrow(CompactedError)
    expect(storage.entries(6, 11, Infinity)).toEqual(entries(6, 10, 1))
    expect(storage.snapshot()).toEqual(snapshotAt(8, 1))
    await subject.close()
  })

  it('should drop the whole log when a newer snapshot is installed', async () => {
    const subject = await create()
    await subject.storage.save(
      { hardState: undefined, entries: entries(1, 4, 1), snapshot: undefined },
      { sync: true },
    )
    await subject.storage.save(
      {
        hardState: { term: 3, vote: '', commit: 20 },
        entries: entries(21, 22, 3),
        snapshot: snapshotAt(20, 3, 'received'),
      },
      { sync: true },
    )
    const storage = await subject.reopen()
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(20)]).toEqual([21, 22, 3])
    expect(storage.snapshot()).toEqual(snapshotAt(20, 3, 'received'))
    expect(storage.initialState().hardState.commit).toBe(20)
    await subject.close()
  })

  it('should reject and change nothing when a save would leave a gap', async () => {
    const subject = await create()
    await subject.storage.save(
      {
        hardState: { term: 1, vote: '', commit: 2 },
        entries: entries(1, 4, 1),
        snapshot: undefined,
      },
      { sync: true },
    )
    // A snapshot at 20 followed by entries from 25: 21 to 24 would be missing.
    const update = {
      hardState: { term: 3, vote: '', commit: 20 },
      entries: entries(25, 26, 3),
      snapshot: snapshotAt(20, 3),
    }
    const saving = Promise.resolve().then(() => subject.storage.save(update, { sync: true }))
    await expect(saving).rejects.toThrow(UnavailableError)
    const storage = await subject.reopen()
    expect([storage.firstIndex(), storage.lastIndex(), storage.snapshot().metadata.index]).toEqual([
      1, 4, 0,
    ])
    expect(storage.initialState().hardState.commit).toBe(2)
    await subject.close()
  })

  it('should return a rejected promise when compacting beyond the last index', async () => {
    const subject = await create()
    await subject.storage.save(
      { hardState: undefined, entries: entries(1, 4, 1), snapshot: undefined },
      { sync: true },
    )
    let thrown: unknown = undefined
    let compacting: Promise<void> = Promise.resolve()
    try {
      compacting = subject.storage.compact(snapshotAt(9, 1), 0)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeUndefined()
    await expect(compacting).rejects.toThrow(UnavailableError)
    expect(subject.storage.snapshot().metadata.index).toBe(0)
    await subject.close()
  })

  it('should keep a newer snapshot when an older one is compacted after it', async () => {
    const subject = await create()
    await subject.storage.save(
      { hardState: undefined, entries: entries(1, 12, 1), snapshot: undefined },
      { sync: true },
    )
    await subject.storage.save(
      { hardState: { term: 3, vote: '', commit: 30 }, entries: [], snapshot: snapshotAt(30, 3) },
      { sync: true },
    )
    await subject.storage.compact(snapshotAt(10, 1), 2)
    const storage = await subject.reopen()
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(30)]).toEqual([31, 30, 3])
    expect(storage.snapshot()).toEqual(snapshotAt(30, 3))
    await subject.close()
  })
})
