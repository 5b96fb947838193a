// CommandLog over any abstract-level database: classic-level (LevelDB) in the daemon,
// memory-level in unit tests. Every write that is promised durable passes `sync: true`,
// because classic-level's default is `false` and would lose acknowledged writes on power loss.
// Writes go through one queue in call order: two batches in flight at once may land in either
// order, and a snapshot that landed before an older one would leave entries missing.
import type { Entry } from '../state/index.ts'
import type { CommandLog, StoredLog } from './command-log.ts'
import { WriteQueue } from './write-queue.ts'

/** The subset of abstract-level this log uses. */
export interface LevelLike {
  open(): Promise<void>
  close(): Promise<void>
  get(key: string): Promise<string | undefined>
  put(key: string, value: string, options: { sync: boolean }): Promise<void>
  batch(
    operations: ({ type: 'put'; key: string; value: string } | { type: 'del'; key: string })[],
    options: { sync: boolean },
  ): Promise<void>
  iterator(options: {
    gt?: string
    gte?: string
    lt?: string
    lte?: string
  }): AsyncIterable<[string, string]>
}

const ENTRY_PREFIX = 'log/'
const SNAPSHOT_KEY = 'snapshot'
const META_PREFIX = 'meta/'

/** Zero-padded so that LevelDB's byte order is index order. */
function entryKey(index: number): string {
  return `${ENTRY_PREFIX}${index.toString().padStart(16, '0')}`
}

export class LevelCommandLog implements CommandLog {
  readonly #db: LevelLike
  readonly #queue = new WriteQueue({ ordered: true })

  constructor(db: LevelLike) {
    this.#db = db
  }

  async open(): Promise<StoredLog> {
    await this.#db.open()
    const snapshot = await this.#snapshot()
    const entries: Entry[] = []
    const from = snapshot === null ? 1 : snapshot.index + 1
    for await (const [, value] of this.#db.iterator({
      gte: entryKey(from),
      lt: `${ENTRY_PREFIX}~`,
    })) {
      const entry = JSON.parse(value) as Entry
      // Replaying past a hole would build a state no replica ever had.
      const expected = from + entries.length
      if (entry.index !== expected) throw new Error(`command log: entry ${expected} missing`)
      entries.push(entry)
    }
    return { snapshot, entries }
  }

  append(entries: readonly Entry[]): Promise<void> {
    return this.#queue.run(async () => {
      if (entries.length === 0) return
      const operations = entries.map((entry) => ({
        type: 'put' as const,
        key: entryKey(entry.index),
        value: JSON.stringify(entry),
      }))
      await this.#db.batch(operations, { sync: true })
    })
  }

  /** Ignores a snapshot older than the stored one, whose entries are already gone. */
  saveSnapshot(index: number, encoded: string): Promise<void> {
    return this.#queue.run(async () => {
      const stored = await this.#snapshot()
      if (stored !== null && stored.index > index) return
      const operations: (
        { type: 'put'; key: string; value: string } | { type: 'del'; key: string }
      )[] = [{ type: 'put', key: SNAPSHOT_KEY, value: JSON.stringify({ index, encoded }) }]
      for await (const [key] of this.#db.iterator({ gte: entryKey(0), lte: entryKey(index) })) {
        operations.push({ type: 'del', key })
      }
      await this.#db.batch(operations, { sync: true })
    })
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.#db.get(META_PREFIX + key)
  }

  putMeta(key: string, value: string): Promise<void> {
    return this.#queue.run(() => this.#db.put(META_PREFIX + key, value, { sync: true }))
  }

  /** Closes the database once every write issued before has settled. */
  close(): Promise<void> {
    return this.#queue.run(() => this.#db.close())
  }

  async #snapshot(): Promise<StoredLog['snapshot']> {
    const raw = await this.#db.get(SNAPSHOT_KEY)
    return raw === undefined ? null : (JSON.parse(raw) as StoredLog['snapshot'])
  }
}
