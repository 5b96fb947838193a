// The Raft driver the daemon, the simulator and `bench raft` run (DESIGN section 3).
export { RaftDriver } from './raft-driver.ts'
export type { LeadershipListener, ProposeOptions, RaftDriverInit } from './raft-driver.ts'
export type { AppliedListener, SnapshotPolicy } from './ledger-machine.ts'
export {
  DriverOverloadedError,
  DriverStoppedError,
  NoLeaderError,
  NotCoordinatorError,
  ProposalAbortedError,
} from './errors.ts'
export { decodeEntry, encodePayload, proposalKey } from './entry-codec.ts'
export type { EntryPayload } from './entry-codec.ts'
export { bootstrapStorage, changeMembership, stepDown, transferLeadership } from './membership.ts'
export { intervalTicker, ManualTicker } from './ticker.ts'
export type { Ticker } from './ticker.ts'
export { openOneVoterLedger } from './open-ledger.ts'
export type { OpenedLedger, OpenLedgerInit } from './open-ledger.ts'
export { installMigratedState, loadCommandLog } from './migrate-command-log.ts'
