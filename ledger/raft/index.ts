// The Raft consensus core (DESIGN section 3): a pure, synchronous state machine in the shape of
// etcd-io/raft. Drivers use RawNode; storage implements RaftStorage.
export { RawNode } from './raw-node.ts'
export type { ProgressStatus, Status } from './raw-node.ts'
export { validateConfig } from './config.ts'
export type { RaftConfig, TestingKnobs, ValidRaftConfig } from './config.ts'
export { SeededRandom } from './random.ts'
export type { RandomSource } from './random.ts'
export type { InitialState, RaftStorage, StorageUpdate } from './storage.ts'
export { entryBytes, limitBytes } from './storage.ts'
export {
  applyConfChange,
  majority,
  bootstrapState,
  confChangeError,
  decodeConfChange,
  encodeConfChange,
} from './membership.ts'
export {
  CompactedError,
  ProposalDroppedError,
  RaftConfigError,
  RaftInvariantError,
  UnavailableError,
} from './errors.ts'
export type {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NodeId,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SnapshotMetadata,
  SoftState,
} from './types.ts'
export { EMPTY_BYTES, EMPTY_CONF_STATE, EMPTY_HARD_STATE, NONE, message } from './types.ts'
