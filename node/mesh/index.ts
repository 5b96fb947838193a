// The peer's libp2p side (DESIGN sections 1 and 7). Each protocol is a libp2p service in the
// `factory(init)(components)` shape:
//   raftTransport({ isAdmitted, logger })  /gridx/raft/1.0.0, the ledger's RaftTransport
//   joinService({ meshId, admit, logger })  /gridx/join/1.0.0, the member side of a join
// MeshNode lists them in createLibp2p's `services` when given `protocols`, with
// `admissionGate` as the connection gater (combined with a MeshPartition in partition tests), and
// joins through `joinMesh` on the joiner's side.
export { loadOrCreateIdentity, PEER_KEY_FILE } from './identity.ts'
export type { Identity } from './identity.ts'
export { defaultWsPort, MeshNode } from './mesh-node.ts'
export type { MeshConnectionEvent, MeshNodeInit, MeshPeer, MeshProtocolsInit } from './mesh-node.ts'
export { Libp2pRaftTransport, raftTransport } from './raft-transport.ts'
export type { RaftTransportComponents, RaftTransportInit } from './raft-transport.ts'
export type { RaftLinkLimits, RaftPeerLinkStats } from './raft-peer-link.ts'
export * from './errors.ts'
export { DEFAULT_P2P_PORT, joinAddress, joinMesh } from './join-mesh.ts'
export type { JoinOptions, Joined } from './join-mesh.ts'
export { JoinService, joinService } from './join-service.ts'
export type {
  AdmitRequest,
  AdmitResult,
  JoinServiceComponents,
  JoinServiceInit,
} from './join-service.ts'
export { generateJoinSecret, hashJoinSecret, judgeJoinSecret } from './join-secret.ts'
export type { JoinSecretHashes } from './join-secret.ts'
export { admissionGate, combineGaters, denyPeers, MeshPartition } from './connection-gate.ts'
export type { AdmissionGateInit } from './connection-gate.ts'
