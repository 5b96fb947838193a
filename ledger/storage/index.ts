// Durable storage of the ledger: the single-voter command log, and the Raft log and hard state,
// each over LevelDB (classic-level) in the daemon and in memory in tests.
export type { CommandLog, StoredLog } from './command-log.ts'
export { LevelCommandLog } from './level-command-log.ts'
export type { LevelLike } from './level-command-log.ts'
// LevelRaftStorage.open(location, options?) opens classic-level at a path;
// LevelRaftStorage.openDb(db, options?) opens any abstract-level database (memory-level in the
// simulator). Options carry the bug switch `testingKnobs.unorderedWrites`.
export { LevelRaftStorage } from './raft-level-storage.ts'
export type { LevelRaftStorageOptions, RaftLevelDatabase } from './raft-level-storage.ts'
export { MemoryRaftStorage } from './raft-memory-storage.ts'
