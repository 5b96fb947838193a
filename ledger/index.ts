export * from './state/index.ts'
export type { Clock } from './clock.ts'
export type { RaftTransport, RaftTransportHandler } from './raft-transport.ts'
export * from './storage/index.ts'
/** The Raft core, under its own name: its `Entry` is a log entry, not a ledger entry. */
export * as raft from './raft/index.ts'
export {
  bootstrapStorage,
  changeMembership,
  decodeEntry,
  DriverOverloadedError,
  DriverStoppedError,
  encodePayload,
  installMigratedState,
  intervalTicker,
  loadCommandLog,
  ManualTicker,
  NoLeaderError,
  NotCoordinatorError,
  openOneVoterLedger,
  ProposalAbortedError,
  proposalKey,
  RaftDriver,
  stepDown,
  transferLeadership,
} from './driver/index.ts'
export type {
  AppliedListener,
  EntryPayload,
  LeadershipListener,
  OpenedLedger,
  OpenLedgerInit,
  ProposeOptions,
  RaftDriverInit,
  SnapshotPolicy,
  Ticker,
} from './driver/index.ts'
