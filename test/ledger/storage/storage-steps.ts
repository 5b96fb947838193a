// Random but valid sequences of storage writes, as a Raft driver issues them, and the checks
// that a storage holds what the same writes applied one after another leave. A fast-check
// arbitrary draws abstract steps; `plan` turns them into concrete writes against a model, so
// every write is one Raft could issue (no truncation below the commit index, snapshots at
// most at the commit index) and shrinking keeps them valid.
import fc from 'fast-check'
import { expect } from 'vitest'
import { RawNode, SeededRandom, bootstrapState } from '../../../ledger/raft/index.ts'
import type { ConfState, RaftStorage, Snapshot, StorageUpdate } from '../../../ledger/raft/index.ts'
import { MemoryRaftStorage } from '../../../ledger/storage/raft-memory-storage.ts'

export const conf: ConfState = { voters: ['1'], learners: [] }

export type Write =
  | { readonly kind: 'save'; readonly update: StorageUpdate; readonly sync: boolean }
  | { readonly kind: 'compact'; readonly snapshot: Snapshot; readonly retain: number }

type Step =
  | { kind: 'append'; back: number; count: number; newTerm: boolean; commit: number; sync: boolean }
  | { kind: 'receive-snapshot'; ahead: number; count: number; sync: boolean }
  | { kind: 'compact'; behind: number; retain: number }

export const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('append' as const),
        back: fc.nat(3),
        count: fc.integer({ min: 1, max: 4 }),
        newTerm: fc.boolean(),
        commit: fc.nat(4),
        sync: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('receive-snapshot' as const),
        ahead: fc.integer({ min: 1, max: 20 }),
        count: fc.nat(3),
        sync: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('compact' as const),
        // Mostly near the commit index, sometimes far behind a snapshot received since.
        behind: fc.oneof(fc.nat(2), fc.nat(30)),
        retain: fc.nat(3),
      }),
    },
  ),
  { minLength: 1, maxLength: 12 },
)

/** The founding write every plan starts from: one voter, so a RawNode can start. */
export function bootstrapWrite(): Write {
  return { kind: 'save', update: { ...bootstrapState(conf), snapshot: undefined }, sync: true }
}

/**
 * Concrete writes for `drawn`, and the model after each prefix: `models[k]` is the state after
 * the bootstrap and the first k writes, each applied once the one before it is done.
 */
export function plan(drawn: readonly Step[]): { writes: Write[]; models: MemoryRaftStorage[] } {
  const model = new MemoryRaftStorage()
  applyWrite(model, bootstrapWrite())
  const writes: Write[] = []
  const models = [copy(model)]
  for (const [position, step] of drawn.entries()) {
    const write = concrete(model, step, position)
    applyWrite(model, write)
    writes.push(write)
    models.push(copy(model))
  }
  return { writes, models }
}

function concrete(model: MemoryRaftStorage, step: Step, position: number): Write {
  const hard = model.hardState()
  const last = model.lastIndex()
  if (step.kind === 'append') {
    const from = Math.max(hard.commit + 1, last + 1 - step.back)
    // Replacing entries takes a newer leader, so a newer term.
    const term = step.newTerm || from <= last ? hard.term + 1 : hard.term
    const entries = range(from, from + step.count - 1).map((index) => ({
      index,
      term,
      type: 'normal' as const,
      data: new TextEncoder().encode(`w${position}/${index}`),
    }))
    const commit = Math.min(from + step.count - 1, hard.commit + step.commit)
    const hardState = { term, vote: '1', commit }
    return { kind: 'save', update: { hardState, entries, snapshot: undefined }, sync: step.sync }
  }
  if (step.kind === 'receive-snapshot') {
    const index = Math.max(last, hard.commit) + step.ahead
    const term = hard.term + 1
    const entries = range(index + 1, index + step.count).map((at) => ({
      index: at,
      term,
      type: 'normal' as const,
      data: new TextEncoder().encode(`w${position}/${at}`),
    }))
    const update = {
      hardState: { term, vote: '', commit: index },
      entries,
      snapshot: snapshotAt(index, term, `received ${position}`),
    }
    return { kind: 'save', update, sync: step.sync }
  }
  // The application's snapshot at an applied index, possibly older than a snapshot received
  // since: compact() must then keep the newer one.
  const index = Math.max(0, hard.commit - step.behind)
  const term = index >= model.firstIndex() - 1 ? model.term(index) : 0
  const snapshot = snapshotAt(index, term, `applied ${position}`)
  return { kind: 'compact', snapshot, retain: step.retain }
}

export function applyWrite(model: MemoryRaftStorage, write: Write): void {
  if (write.kind === 'save') model.apply(write.update)
  else model.compactSync(write.snapshot, write.retain)
}

/** Issues `write` on `storage`; the promise is the storage's own. */
export function issue(storage: RaftStorage, write: Write): Promise<void> {
  if (write.kind === 'save') return storage.save(write.update, { sync: write.sync })
  return storage.compact(write.snapshot, write.retain)
}

/** What a storage holds, in a form `toEqual` compares. */
export function contents(storage: RaftStorage): unknown {
  const first = storage.firstIndex()
  const last = storage.lastIndex()
  const snapshot = storage.snapshot()
  return {
    first,
    last,
    startTerm: storage.term(first - 1),
    entries: storage.entries(first, last + 1, Infinity),
    hardState: storage.initialState().hardState,
    snapshot: { metadata: snapshot.metadata, data: Array.from(snapshot.data) },
  }
}

/** A Raft node starts from `storage`: its commit is within the log, its membership readable. */
export function expectRaftStarts(storage: RaftStorage): void {
  const applied = storage.snapshot().metadata.index
  const config = { id: '1', storage, random: new SeededRandom(1), applied }
  const node = new RawNode({ ...config, electionTicks: 10, heartbeatTicks: 1 })
  expect(node.status().conf.voters).toEqual(conf.voters)
}

function copy(model: MemoryRaftStorage): MemoryRaftStorage {
  const start = model.start()
  return MemoryRaftStorage.fromParts({
    hardState: model.hardState(),
    snapshot: model.snapshot(),
    start,
    entries: model.entries(start.index + 1, model.lastIndex() + 1, Infinity),
  })
}

function snapshotAt(index: number, term: number, data: string): Snapshot {
  return { metadata: { index, term, confState: conf }, data: new TextEncoder().encode(data) }
}

function range(from: number, to: number): number[] {
  const result: number[] = []
  for (let index = from; index <= to; index++) result.push(index)
  return result
}
