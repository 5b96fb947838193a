// RaftStorage over LevelDB (classic-level). Every save is one atomic batch: snapshot, entries
// and hard state land together or not at all, and with `sync: true` (classic-level's default
// is false) the batch is on disk before the promise resolves. The log above the compaction
// point is also kept in memory so the synchronous core can read it. Writes (save, compact,
// close) go through one queue in call order, each computed against what the earlier ones left,
// so the cache and the disk agree after every completed write.
import { ClassicLevel } from 'classic-level'
import type { Entry, RaftStorage, Snapshot, StorageUpdate } from '../raft/index.ts'
import { EMPTY_HARD_STATE, UnavailableError } from '../raft/index.ts'
import type { InitialState } from '../raft/index.ts'
import {
  decodeEntryValue,
  decodeHardState,
  decodeSnapshot,
  decodeStart,
  encodeEntryValue,
  encodeJson,
  encodeSnapshot,
} from './raft-codec.ts'
import { MemoryRaftStorage } from './raft-memory-storage.ts'
import { WriteQueue } from './write-queue.ts'

type Operation = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

/** Keys are text and values bytes on every call, whatever the database's own defaults are. */
const ENCODINGS = { keyEncoding: 'utf8', valueEncoding: 'view' } as const

/**
 * The part of abstract-level this storage uses, so any abstract-level database fits:
 * classic-level in the daemon, memory-level in the simulator and unit tests, and wrappers that
 * model a crash. `sync` is classic-level's: true means on stable storage before resolving.
 */
export interface RaftLevelDatabase {
  open(): Promise<void>
  close(): Promise<void>
  get(key: string, options: typeof ENCODINGS): Promise<Uint8Array | undefined>
  batch(
    operations: Operation[],
    options: { readonly sync: boolean } & typeof ENCODINGS,
  ): Promise<void>
  iterator(
    options: { readonly gt: string; readonly lt: string } & typeof ENCODINGS,
  ): AsyncIterable<[string, Uint8Array]>
}

export interface LevelRaftStorageOptions {
  readonly testingKnobs?: {
    /** Bug switch: writes skip the queue and are computed against the cache as it is at the
     * call, the old behaviour, so tests and the simulator can show that they catch it. */
    readonly unorderedWrites?: boolean
  }
}

const ENTRY_PREFIX = 'raft/entry/'
const HARD_STATE_KEY = 'raft/hard-state'
const SNAPSHOT_KEY = 'raft/snapshot'
const START_KEY = 'raft/start'

/** Zero-padded so that LevelDB's byte order is index order. */
function entryKey(index: number): string {
  return `${ENTRY_PREFIX}${index.toString().padStart(16, '0')}`
}

export class LevelRaftStorage implements RaftStorage {
  readonly #db: RaftLevelDatabase
  /** What the completed writes left: the cache and the database agree after each one. */
  readonly #cache: MemoryRaftStorage
  readonly #queue: WriteQueue

  private constructor(
    db: RaftLevelDatabase,
    cache: MemoryRaftStorage,
    options: LevelRaftStorageOptions,
  ) {
    this.#db = db
    this.#cache = cache
    this.#queue = new WriteQueue({ ordered: options.testingKnobs?.unorderedWrites !== true })
  }

  /** Opens (creating if needed) the log at `location`. A new log is empty and has no members:
   * a founding member saves `bootstrapState` into it. */
  static open(location: string, options: LevelRaftStorageOptions = {}): Promise<LevelRaftStorage> {
    const db = new ClassicLevel<string, Uint8Array>(location, ENCODINGS)
    return LevelRaftStorage.openDb(db, options)
  }

  /** Opens the log held in `db`, which the storage then owns: close() closes it. */
  static async openDb(
    db: RaftLevelDatabase,
    options: LevelRaftStorageOptions = {},
  ): Promise<LevelRaftStorage> {
    await db.open()
    const snapshotValue = await db.get(SNAPSHOT_KEY, ENCODINGS)
    if (snapshotValue === undefined) {
      const fresh = new MemoryRaftStorage()
      const snapshot = fresh.snapshot()
      await db.batch(
        [
          { type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshot(snapshot) },
          { type: 'put', key: START_KEY, value: encodeJson({ index: 0, term: 0 }) },
        ],
        { sync: true, ...ENCODINGS },
      )
      return new LevelRaftStorage(db, fresh, options)
    }
    const hardValue = await db.get(HARD_STATE_KEY, ENCODINGS)
    const startValue = await db.get(START_KEY, ENCODINGS)
    if (startValue === undefined) throw new Error('raft storage: snapshot without a log start')
    const start = decodeStart(startValue)
    const entries: Entry[] = []
    for await (const [key, value] of db.iterator({
      gt: entryKey(start.index),
      lt: `${ENTRY_PREFIX}~`,
      ...ENCODINGS,
    })) {
      const index = Number(key.slice(ENTRY_PREFIX.length))
      const expected = start.index + entries.length + 1
      if (index !== expected) throw new Error(`raft storage: entry ${expected} missing`)
      entries.push(decodeEntryValue(index, value))
    }
    const cache = MemoryRaftStorage.fromParts({
      hardState: hardValue === undefined ? EMPTY_HARD_STATE : decodeHardState(hardValue),
      snapshot: decodeSnapshot(snapshotValue),
      start,
      entries,
    })
    return new LevelRaftStorage(db, cache, options)
  }

  /** Closes the database once every write issued before has settled. */
  close(): Promise<void> {
    return this.#queue.run(() => this.#db.close())
  }

  initialState(): InitialState {
    return this.#cache.initialState()
  }

  entries(low: number, high: number, bytesMax: number): Entry[] {
    return this.#cache.entries(low, high, bytesMax)
  }

  term(index: number): number {
    return this.#cache.term(index)
  }

  firstIndex(): number {
    return this.#cache.firstIndex()
  }

  lastIndex(): number {
    return this.#cache.lastIndex()
  }

  snapshot(): Snapshot {
    return this.#cache.snapshot()
  }

  /** Queued behind every earlier write; see RaftStorage.save. */
  save(update: StorageUpdate, options: { readonly sync: boolean }): Promise<void> {
    return this.#queue.run(() => this.#save(update, options))
  }

  /** Queued behind every earlier write; see RaftStorage.compact. */
  compact(snapshot: Snapshot, retainEntries: number): Promise<void> {
    return this.#queue.run(() => this.#compact(snapshot, retainEntries))
  }

  async #save(update: StorageUpdate, options: { readonly sync: boolean }): Promise<void> {
    const operations: Operation[] = []
    let first = this.#cache.firstIndex()
    let last = this.#cache.lastIndex()
    const snapshot = update.snapshot
    if (snapshot !== undefined && snapshot.metadata.index > this.#cache.snapshot().metadata.index) {
      for (let index = first; index <= last; index++)
        operations.push({ type: 'del', key: entryKey(index) })
      const { index, term } = snapshot.metadata
      operations.push({ type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshot(snapshot) })
      operations.push({ type: 'put', key: START_KEY, value: encodeJson({ index, term }) })
      first = index + 1
      last = index
    }
    const fresh = update.entries.filter((entry) => entry.index >= first)
    // Refused before anything is written, so a gap never reaches the disk.
    const firstNew = fresh[0]
    if (firstNew !== undefined && firstNew.index > last + 1) {
      throw new UnavailableError(firstNew.index)
    }
    const lastNew = fresh[fresh.length - 1]
    for (const entry of fresh) {
      operations.push({ type: 'put', key: entryKey(entry.index), value: encodeEntryValue(entry) })
    }
    // A shorter new suffix replaces a longer old one: drop the old tail.
    if (lastNew !== undefined) {
      for (let index = lastNew.index + 1; index <= last; index++) {
        operations.push({ type: 'del', key: entryKey(index) })
      }
    }
    if (update.hardState !== undefined) {
      operations.push({ type: 'put', key: HARD_STATE_KEY, value: encodeJson(update.hardState) })
    }
    if (operations.length > 0)
      await this.#db.batch(operations, { sync: options.sync, ...ENCODINGS })
    this.#cache.apply(update)
  }

  async #compact(snapshot: Snapshot, retainEntries: number): Promise<void> {
    const before = this.#cache.start().index
    const probe = MemoryRaftStorage.fromParts({
      hardState: this.#cache.hardState(),
      snapshot: this.#cache.snapshot(),
      start: this.#cache.start(),
      entries: this.#cache.entries(before + 1, this.#cache.lastIndex() + 1, Infinity),
    })
    // Work out the result on a copy first so the batch and the cache cannot disagree.
    probe.compactSync(snapshot, retainEntries)
    const start = probe.start()
    const operations: Operation[] = [
      { type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshot(probe.snapshot()) },
      { type: 'put', key: START_KEY, value: encodeJson(start) },
    ]
    for (let index = before + 1; index <= start.index; index++) {
      operations.push({ type: 'del', key: entryKey(index) })
    }
    await this.#db.batch(operations, { sync: true, ...ENCODINGS })
    this.#cache.compactSync(snapshot, retainEntries)
  }
}
