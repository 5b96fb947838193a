export { loadOrCreateIdentity, PEER_KEY_FILE } from './identity.ts'
export type { Identity } from './identity.ts'
export { defaultWsPort, MeshNode } from './mesh-node.ts'
export type { MeshNodeInit, MeshPeer } from './mesh-node.ts'
