// Data dirs of the one-machine release kept the ledger as a command log (LevelCommandLog) with
// state snapshots. This turns one into a Raft log: a Raft snapshot at the command log's last
// index whose data is the state there, with this peer as the only voter. The old log is not
// changed; the caller moves it aside once this resolved.
import type { NodeId, RaftStorage, Snapshot } from '../raft/index.ts'
import {
  apply,
  assert,
  createState,
  decodeState,
  encodeState,
  ledgerViolations,
} from '../state/index.ts'
import type { Entry, State } from '../state/index.ts'
import type { CommandLog } from '../storage/index.ts'

/** Entries stored before proposal sessions existed get a session of their own from their
 * index (as the old replica did): each was applied once already. */
function withSession(entry: Entry, logTime: number): Entry {
  if ((entry as Partial<Entry>).proposal?.session !== undefined) return entry
  const proposedAt = Math.max(entry.logTime, logTime)
  const session = `log/${entry.index}`
  return { ...entry, proposal: { session, sequence: 1, acknowledged: 0, proposedAt } }
}

/** The state an old command log holds: its snapshot, then its entries replayed. */
export async function loadCommandLog(log: CommandLog): Promise<State> {
  const stored = await log.open()
  try {
    const state = stored.snapshot === null ? createState() : decodeState(stored.snapshot.encoded)
    for (const entry of stored.entries) apply(state, withSession(entry, state.logTime))
    return state
  } finally {
    await log.close()
  }
}

/** Writes `state` into an empty Raft storage as its snapshot, `voter` its only member.
 * Refuses, saying why, a state that does not add up. */
export async function installMigratedState(
  state: State,
  storage: RaftStorage,
  voter: NodeId,
): Promise<number> {
  assert(storage.lastIndex() === 0, 'the Raft log to migrate into is not empty')
  const violations = ledgerViolations(state)
  if (violations.length > 0) {
    throw new Error(
      `the old ledger does not add up, so it is not migrated: ${violations.join('; ')}`,
    )
  }
  const index = state.appliedIndex
  const snapshot: Snapshot = {
    metadata: { index, term: 1, confState: { voters: [voter], learners: [] } },
    data: new TextEncoder().encode(encodeState(state)),
  }
  await storage.save(
    { snapshot, entries: [], hardState: { term: 1, vote: '', commit: index } },
    { sync: true },
  )
  return index
}
