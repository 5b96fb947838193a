// LevelRaftStorage across crashes that keep only what was synced (test/fixtures/crash-level.ts
// has the model): a reopened log is what some prefix of the writes left, never less than the
// last acknowledged synced write, and a Raft node starts from it.
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import { UnavailableError } from '../../../ledger/raft/index.ts'
import type { Entry } from '../../../ledger/raft/index.ts'
import { LevelRaftStorage } from '../../../ledger/storage/index.ts'
import type { LevelRaftStorageOptions } from '../../../ledger/storage/index.ts'
import { CrashLevel, CrashedError } from '../../fixtures/crash-level.ts'
import { bootstrapWrite, contents, expectRaftStarts, issue, plan, steps } from './storage-steps.ts'

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

function crashOrGap(error: unknown): boolean {
  return error instanceof CrashedError || error instanceof UnavailableError
}

/** A storage over a crashable memory-level, bootstrapped and holding entries 2..5 synced. */
async function started(): Promise<{
  inner: MemoryLevel<string, Uint8Array>
  level: CrashLevel<Uint8Array>
  storage: LevelRaftStorage
}> {
  const inner = new MemoryLevel<string, Uint8Array>()
  const level = new CrashLevel<Uint8Array>(inner)
  const storage = await LevelRaftStorage.openDb(level)
  await issue(storage, bootstrapWrite())
  const hardState = { term: 2, vote: '1', commit: 3 }
  await storage.save({ hardState, entries: entries(2, 5, 2), snapshot: undefined }, { sync: true })
  return { inner, level, storage }
}

/**
 * Issues planned writes without awaiting, lets some of their batches land in an order drawn
 * with them, crashes, and checks what reopens against the model's prefixes.
 */
function crashAnywhere(options: LevelRaftStorageOptions): fc.IAsyncProperty<unknown[]> {
  const crashes = fc.record({
    choices: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
    releases: fc.nat(14),
  })
  return fc.asyncProperty(steps, crashes, async (drawn, { choices, releases }) => {
    const { writes, models } = plan(drawn)
    const inner = new MemoryLevel<string, Uint8Array>()
    const level = new CrashLevel<Uint8Array>(inner)
    const storage = await LevelRaftStorage.openDb(level, options)
    await issue(storage, bootstrapWrite())
    level.holdBatches(true)
    const acknowledged = writes.map(() => false)
    const outcomes = writes.map((write, position) =>
      issue(storage, write).then(
        () => (acknowledged[position] = true),
        // The crash fails what was in flight; a write queued behind a failed one may then
        // find the log it extends missing, which it refuses whole.
        (error: unknown) => expect(error).toSatisfy(crashOrGap),
      ),
    )
    for (let turn = 0; turn < releases; turn++) {
      await settle()
      const held = level.held().length
      if (held === 0) break
      await level.release((choices[turn % choices.length] ?? 0) % held)
    }
    await level.crash()
    await Promise.all(outcomes)
    // models[k] is the state after k writes: a synced write acknowledged makes it a floor.
    const floor = writes.reduce(
      (at, write, position) =>
        acknowledged[position] === true && (write.kind === 'compact' || write.sync)
          ? position + 1
          : at,
      0,
    )
    const reopened = await LevelRaftStorage.openDb(inner)
    const found = contents(reopened)
    const prefixes = models.flatMap((model, k) =>
      isDeepStrictEqual(contents(model), found) ? [k] : [],
    )
    expect(prefixes.some((k) => k >= floor)).toBe(true)
    expectRaftStarts(reopened)
    await reopened.close()
  })
}

describe('LevelRaftStorage crashes', () => {
  it('should reopen to the synced log and hard state when an unsynced save is lost', async () => {
    const { inner, level, storage } = await started()
    const hardState = { term: 2, vote: '1', commit: 8 }
    await storage.save(
      { hardState, entries: entries(6, 10, 2), snapshot: undefined },
      { sync: false },
    )
    expect(storage.lastIndex()).toBe(10)
    await level.crash()
    const reopened = await LevelRaftStorage.openDb(inner)
    expect(reopened.lastIndex()).toBe(5)
    expect(reopened.entries(1, 6, Infinity).slice(1)).toEqual(entries(2, 5, 2))
    expect(reopened.initialState().hardState).toEqual({ term: 2, vote: '1', commit: 3 })
    expectRaftStarts(reopened)
    await reopened.close()
  })

  it('should keep earlier unsynced saves when a later synced one lands first', async () => {
    const { inner, level, storage } = await started()
    const hardState = { term: 2, vote: '1', commit: 4 }
    await storage.save(
      { hardState, entries: entries(6, 8, 2), snapshot: undefined },
      { sync: false },
    )
    await storage.save(
      { hardState, entries: entries(9, 9, 2), snapshot: undefined },
      { sync: true },
    )
    await level.crash()
    const reopened = await LevelRaftStorage.openDb(inner)
    expect([reopened.lastIndex(), reopened.initialState().hardState.commit]).toEqual([9, 4])
    await reopened.close()
  })

  it('should fail a save still in flight and keep none of it when crashed', async () => {
    const { inner, level, storage } = await started()
    level.holdBatches(true)
    const hardState = { term: 2, vote: '1', commit: 6 }
    const saving = storage.save(
      { hardState, entries: entries(6, 7, 2), snapshot: undefined },
      { sync: true },
    )
    await settle()
    expect(level.held()).toEqual([true])
    const lost = expect(saving).rejects.toThrow(CrashedError)
    await level.crash()
    await lost
    const reopened = await LevelRaftStorage.openDb(inner)
    expect([reopened.lastIndex(), reopened.initialState().hardState.commit]).toEqual([5, 3])
    await reopened.close()
  })

  it('should reopen to a prefix holding the last synced write when crashed anywhere', async () => {
    await fc.assert(crashAnywhere({}), { seed: 9, numRuns: 150 })
  })

  it('should be caught by the same check when the unorderedWrites bug switch is on', async () => {
    const options = { testingKnobs: { unorderedWrites: true } }
    const result = await fc.check(crashAnywhere(options), { seed: 9, numRuns: 150 })
    expect(result.failed).toBe(true)
  })
})
