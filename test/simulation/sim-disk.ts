// What a simulated peer persists to. Two disks, one chosen per seed:
// - MemoryDisk: a MemoryRaftStorage written at once, plus a hard state written without a sync
//   that a crash loses. Synchronous, so most seeds run at full speed.
// - LevelDisk: the daemon's own LevelRaftStorage over memory-level behind CrashLevel, so the
//   real code path runs: every batch is held until the simulator releases it (in a drawn
//   order when several are in flight), and a crash keeps only the batches synced before it.
import { MemoryLevel } from 'memory-level'
import { bootstrapState } from '../../ledger/raft/index.ts'
import type { ConfState, RaftStorage, Ready, Snapshot } from '../../ledger/raft/index.ts'
import { LevelRaftStorage, MemoryRaftStorage } from '../../ledger/storage/index.ts'
import type { LevelRaftStorageOptions, RaftLevelDatabase } from '../../ledger/storage/index.ts'
import type { HardState } from '../../ledger/raft/index.ts'
import { CrashLevel } from '../fixtures/crash-level.ts'

export interface SimDisk {
  /** What the core reads; replaced by a restart on a LevelDisk. */
  readonly storage: RaftStorage
  /** Whether a crash now would lose a write the node has made. */
  readonly unsynced: boolean
  /** Writes one Ready; a Promise when the write completes later. */
  persist(ready: Ready): Promise<void> | undefined
  compact(snapshot: Snapshot, retainEntries: number): Promise<void> | undefined
  /** Power loss: what was not synced is gone. */
  crash(): void
  /** Reads the storage back after a crash (or first opens it); a Promise when that is async. */
  reopen(): Promise<void> | undefined
}

export class MemoryDisk implements SimDisk {
  readonly storage = new MemoryRaftStorage()
  /** Hard state written without a sync: lost if the node crashes before the next sync. */
  #pendingHardState: HardState | undefined = undefined

  constructor(founding: ConfState | undefined) {
    if (founding !== undefined) {
      this.storage.apply({ ...bootstrapState(founding), snapshot: undefined })
    }
  }

  get unsynced(): boolean {
    return this.#pendingHardState !== undefined
  }

  persist(ready: Ready): undefined {
    if (ready.mustSync) {
      // A sync flushes every earlier unsynced write too.
      const hardState = ready.hardState ?? this.#pendingHardState
      this.storage.apply({ hardState, entries: ready.entries, snapshot: ready.snapshot })
      this.#pendingHardState = undefined
    } else if (ready.hardState !== undefined) {
      this.#pendingHardState = ready.hardState
    }
    return undefined
  }

  compact(snapshot: Snapshot, retainEntries: number): undefined {
    this.storage.compactSync(snapshot, retainEntries)
    return undefined
  }

  crash(): void {
    this.#pendingHardState = undefined
  }

  reopen(): undefined {
    return undefined
  }
}

export class LevelDisk implements SimDisk {
  readonly #inner = new MemoryLevel<string, Uint8Array>()
  readonly #options: LevelRaftStorageOptions
  #founding: ConfState | undefined
  #level: CrashLevel<Uint8Array> | undefined = undefined
  #storage: LevelRaftStorage | undefined = undefined
  /** The crash's undo of unsynced batches, which a reopen must wait for. */
  #crashed: Promise<void> = Promise.resolve()

  constructor(founding: ConfState | undefined, options: LevelRaftStorageOptions) {
    this.#founding = founding
    this.#options = options
  }

  get storage(): RaftStorage {
    if (this.#storage === undefined) throw new Error('the level disk is not open')
    return this.#storage
  }

  get unsynced(): boolean {
    return (this.#level?.held().length ?? 0) > 0
  }

  /** How many batches are in flight, waiting for `release`. */
  held(): number {
    return this.#level?.held().length ?? 0
  }

  /** Lands the in-flight batch at `position` (0 is the oldest). */
  release(position: number): Promise<void> {
    return (this.#level as CrashLevel<Uint8Array>).release(position)
  }

  persist(ready: Ready): Promise<void> {
    const update = { hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot }
    return (this.#storage as LevelRaftStorage).save(update, { sync: ready.mustSync })
  }

  compact(snapshot: Snapshot, retainEntries: number): Promise<void> {
    return (this.#storage as LevelRaftStorage).compact(snapshot, retainEntries)
  }

  crash(): void {
    const level = this.#level
    this.#level = undefined
    this.#storage = undefined
    if (level !== undefined) this.#crashed = this.#crashed.then(() => level.crash())
  }

  /**
   * With no batch in flight, what a restart would read must be what the core reads now: the
   * storage promises its cache and its disk agree after every completed write. Returns the
   * difference in words, or undefined when they agree or a batch is still in flight.
   */
  async divergence(): Promise<string | undefined> {
    const live = this.#storage
    if (live === undefined || this.held() > 0) return undefined
    const inner = this.#inner
    const readOnly: RaftLevelDatabase = {
      open: () => Promise.resolve(),
      close: () => Promise.resolve(),
      get: (key, options) => inner.get(key, options),
      batch: () => Promise.reject(new Error('a read-only view of the disk')),
      iterator: (options) => inner.iterator(options),
    }
    let disk: string
    try {
      disk = describeStorage(await LevelRaftStorage.openDb(readOnly))
    } catch (error) {
      return `its disk cannot be read back (${String(error)})`
    }
    const cache = describeStorage(live)
    return disk === cache ? undefined : `its disk holds ${disk}, its cache ${cache}`
  }

  async reopen(): Promise<void> {
    await this.#crashed
    // The first open lands its batches at once: a founding member's bootstrap is synced
    // before the process takes part.
    const level = new CrashLevel<Uint8Array>(this.#inner, { holdBatches: false })
    const storage = await LevelRaftStorage.openDb(level, this.#options)
    const founding = this.#founding
    this.#founding = undefined
    if (founding !== undefined) {
      await storage.save({ ...bootstrapState(founding), snapshot: undefined }, { sync: true })
    }
    level.holdBatches(true)
    this.#level = level
    this.#storage = storage
  }
}

function describeStorage(storage: RaftStorage): string {
  const { index, term } = storage.snapshot().metadata
  const { hardState } = storage.initialState()
  const last = storage.lastIndex()
  return (
    `snapshot ${index}/${term}, log ${storage.firstIndex()}..${last} ending in term ` +
    `${storage.term(last)}, term ${hardState.term} vote ${hardState.vote || '-'} ` +
    `commit ${hardState.commit}`
  )
}
