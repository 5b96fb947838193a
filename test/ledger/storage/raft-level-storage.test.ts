// LevelRaftStorage under writes that are not awaited one by one: every write goes through one
// queue, so what is on disk and in the cache is what the writes leave applied in call order.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import type { Entry, Snapshot } from '../../../ledger/raft/index.ts'
import { LevelRaftStorage } from '../../../ledger/storage/index.ts'
import type { LevelRaftStorageOptions } from '../../../ledger/storage/index.ts'
import { CrashLevel } from '../../fixtures/crash-level.ts'
import {
  bootstrapWrite,
  conf,
  contents,
  expectRaftStarts,
  issue,
  plan,
  steps,
} from './storage-steps.ts'

const directories: string[] = []

afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true })
})

/** Lets every pending promise continuation run, so a queued write reaches the database. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function entries(from: number, to: number, term: number): Entry[] {
  const result: Entry[] = []
  for (let index = from; index <= to; index++) {
    result.push({ index, term, type: 'normal', data: new TextEncoder().encode(`${term}/${index}`) })
  }
  return result
}

function snapshotAt(index: number, term: number): Snapshot {
  return { metadata: { index, term, confState: conf }, data: new TextEncoder().encode(`s${index}`) }
}

/**
 * Issues the writes `drawn` plans without awaiting any, lets their batches land in the order
 * `choices` picks among those in flight, then checks the cache, and the database reopened,
 * against the model: the writes applied one after another.
 */
async function runInterleaved(
  drawn: Parameters<typeof plan>[0],
  choices: readonly number[],
  options: LevelRaftStorageOptions,
): Promise<void> {
  const { writes, models } = plan(drawn)
  const inner = new MemoryLevel<string, Uint8Array>()
  const level = new CrashLevel<Uint8Array>(inner)
  const storage = await LevelRaftStorage.openDb(level, options)
  await issue(storage, bootstrapWrite())
  level.holdBatches(true)
  const outcomes = writes.map((write) => issue(storage, write).then(() => 'done', String))
  for (let turn = 0; ; turn++) {
    await settle()
    const held = level.held().length
    if (held === 0) break
    await level.release((choices[turn % choices.length] ?? 0) % held)
  }
  expect(await Promise.all(outcomes)).toEqual(writes.map(() => 'done'))
  const expected = contents(models[models.length - 1] as (typeof models)[number])
  expect(contents(storage)).toEqual(expected)
  level.holdBatches(false)
  await storage.close()
  const reopened = await LevelRaftStorage.openDb(inner)
  expect(contents(reopened)).toEqual(expected)
  expectRaftStarts(reopened)
  await reopened.close()
}

/** The same writes at once on real LevelDB, where libuv's thread pool decides what lands. */
async function runOnDisk(drawn: Parameters<typeof plan>[0]): Promise<void> {
  const { writes, models } = plan(drawn)
  const directory = await mkdtemp(join(tmpdir(), 'gridx-raft-'))
  directories.push(directory)
  const storage = await LevelRaftStorage.open(directory)
  await issue(storage, bootstrapWrite())
  await Promise.all(writes.map((write) => issue(storage, write)))
  await storage.close()
  const reopened = await LevelRaftStorage.open(directory)
  expect(contents(reopened)).toEqual(contents(models[models.length - 1] as (typeof models)[0]))
  expectRaftStarts(reopened)
  await reopened.close()
}

const interleavings = fc.array(fc.nat(), { minLength: 1, maxLength: 16 })

describe('LevelRaftStorage write order', () => {
  it('should keep the newer snapshot when compact() with an older one follows save()', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gridx-raft-'))
    directories.push(directory)
    const storage = await LevelRaftStorage.open(directory)
    await storage.save(first(), { sync: true })
    await storage.save(
      {
        hardState: { term: 2, vote: '1', commit: 12 },
        entries: entries(2, 12, 2),
        snapshot: undefined,
      },
      { sync: true },
    )
    const saved = storage.save(
      { hardState: { term: 3, vote: '', commit: 30 }, entries: [], snapshot: snapshotAt(30, 3) },
      { sync: true },
    )
    const compacted = storage.compact(snapshotAt(10, 2), 2)
    await Promise.all([saved, compacted])
    expect(storage.snapshot().metadata.index).toBe(30)
    await storage.close()
    const reopened = await LevelRaftStorage.open(directory)
    expect([reopened.snapshot().metadata.index, reopened.lastIndex()]).toEqual([30, 30])
    expectRaftStarts(reopened)
    await reopened.close()
  })

  it('should leave no gap when two overlapping saves land in reverse order', async () => {
    const inner = new MemoryLevel<string, Uint8Array>()
    const level = new CrashLevel<Uint8Array>(inner)
    const storage = await LevelRaftStorage.openDb(level)
    await storage.save(first(), { sync: true })
    await storage.save(
      {
        hardState: { term: 2, vote: '1', commit: 2 },
        entries: entries(2, 5, 2),
        snapshot: undefined,
      },
      { sync: true },
    )
    level.holdBatches(true)
    // A new leader replaces 3..5, then appends 4..6 on top of its own entry 3.
    const hardState = { term: 3, vote: '1', commit: 2 }
    const writes = [
      storage.save({ hardState, entries: entries(3, 3, 3), snapshot: undefined }, { sync: true }),
      storage.save({ hardState, entries: entries(4, 6, 3), snapshot: undefined }, { sync: true }),
    ]
    // Whatever is in flight, the newest batch lands first.
    for (;;) {
      await settle()
      const held = level.held().length
      if (held === 0) break
      await level.release(held - 1)
    }
    await Promise.all(writes)
    await storage.close()
    const reopened = await LevelRaftStorage.openDb(inner)
    expect(reopened.entries(1, 7, Infinity).map((entry) => entry.term)).toEqual([1, 2, 3, 3, 3, 3])
    await reopened.close()
  })

  it('should hold what the writes leave in call order when many are issued at once', async () => {
    const property = fc.asyncProperty(steps, interleavings, (drawn, choices) =>
      runInterleaved(drawn, choices, {}),
    )
    await fc.assert(property, { seed: 8, numRuns: 150 })
  })

  it('should hold what the writes leave in call order when issued at once on LevelDB', async () => {
    await fc.assert(fc.asyncProperty(steps, runOnDisk), { seed: 10, numRuns: 30 })
  })

  it('should be caught by the same check when the unorderedWrites bug switch is on', async () => {
    const options = { testingKnobs: { unorderedWrites: true } }
    const property = fc.asyncProperty(steps, interleavings, (drawn, choices) =>
      runInterleaved(drawn, choices, options),
    )
    const result = await fc.check(property, { seed: 8, numRuns: 150 })
    expect(result.failed).toBe(true)
  })
})

function first(): Parameters<LevelRaftStorage['save']>[0] {
  const write = bootstrapWrite()
  if (write.kind !== 'save') throw new Error('bootstrap is a save')
  return write.update
}
