// CommandLog over any abstract-level database: classic-level (LevelDB) in the daemon,
// memory-level in unit tests. Every write that is promised durable passes `sync: true`,
// because classic-level's default is `false` and would lose acknowledged writes on power loss.
import type { Entry } from '../state/index.ts'
import type { CommandLog, StoredLog } from './command-log.ts'

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

  constructor(db: LevelLike) {
    this.#db = db
  }

  async open(): Promise<StoredLog> {
    await this.#db.open()
    const raw = await this.#db.get(SNAPSHOT_KEY)
    const snapshot = raw === undefined ? null : (JSON.parse(raw) as StoredLog['snapshot'])
    const entries: Entry[] = []
    const from = snapshot === null ? 0 : snapshot.index + 1
    for await (const [, value] of this.#db.iterator({
      gte: entryKey(from),
      lt: `${ENTRY_PREFIX}~`,
    })) {
      entries.push(JSON.parse(value) as Entry)
    }
    return { snapshot, entries }
  }

  async append(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return
    const operations = entries.map((entry) => ({
      type: 'put' as const,
      key: entryKey(entry.index),
      value: JSON.stringify(entry),
    }))
    await this.#db.batch(operations, { sync: true })
  }

  async saveSnapshot(index: number, encoded: string): Promise<void> {
    const operations: (
      { type: 'put'; key: string; value: string } | { type: 'del'; key: string }
    )[] = [{ type: 'put', key: SNAPSHOT_KEY, value: JSON.stringify({ index, encoded }) }]
    for await (const [key] of this.#db.iterator({ gte: entryKey(0), lte: entryKey(index) })) {
      operations.push({ type: 'del', key })
    }
    await this.#db.batch(operations, { sync: true })
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.#db.get(META_PREFIX + key)
  }

  async putMeta(key: string, value: string): Promise<void> {
    await this.#db.put(META_PREFIX + key, value, { sync: true })
  }

  async close(): Promise<void> {
    await this.#db.close()
  }
}
