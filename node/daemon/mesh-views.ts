// What this peer shows of the mesh in `mesh.info` and `mesh.peers`: the coordinator and term
// are the Raft leader and term this peer knows.
import { jobsByState } from '../../ledger/index.ts'
import type { RaftDriver } from '../../ledger/index.ts'
import type { MeshMemberView, Results } from '../../protocol/index.ts'
import { VERSION } from '../local/index.ts'
import type { MeshNode } from '../mesh/index.ts'
import type { LocalExecutor } from './daemon.ts'

export function meshInfoView(init: {
  readonly ledger: RaftDriver
  readonly meshId: string
  readonly peerId: string
  /** The account this peer's API token acts as. */
  readonly owner: string
  readonly members: () => readonly MeshMemberView[]
}): Results['mesh.info'] {
  const state = init.ledger.localRead()
  const status = init.ledger.status()
  return {
    meshId: init.meshId,
    peerId: init.peerId,
    owner: init.owner,
    coordinator: status.leader,
    term: status.term,
    appliedIndex: state.appliedIndex,
    version: VERSION,
    policy: state.policy,
    queueLength: state.queue.length,
    jobsByState: jobsByState(state),
    commitIndex: status.commit,
    voterTarget: state.mesh?.voterTarget ?? 1,
    members: init.members(),
  }
}

export function peersView(init: {
  readonly peerId: string
  readonly mesh: MeshNode
  readonly executor: LocalExecutor | null
  readonly ledger: RaftDriver
}): Results['mesh.peers'] {
  const { peerId, mesh, executor } = init
  const status = executor?.status()
  const raft = init.ledger.status()
  const self = {
    peerId,
    owner: init.ledger.localRead().peers.get(peerId)?.owner ?? peerId,
    roles: [
      'peer' as const,
      ...(raft.appliedConf.voters.includes(peerId) ? ['voter' as const] : []),
      ...(raft.leader === peerId ? ['coordinator' as const] : []),
      ...(status?.available ? ['executor' as const] : []),
    ],
    addresses: mesh.addresses(),
    reachable: true,
    self: true,
    capacity: status?.available ? status.capacity : null,
    load: status?.load ?? null,
    executorProblem: executor === null ? 'started with --no-executor' : (status?.problem ?? null),
  }
  const others = mesh.connectedPeers().map((peer) => ({
    peerId: peer.peerId,
    owner: init.ledger.localRead().peers.get(peer.peerId)?.owner ?? peer.peerId,
    roles: [
      'peer' as const,
      ...(raft.appliedConf.voters.includes(peer.peerId) ? ['voter' as const] : []),
      ...(raft.leader === peer.peerId ? ['coordinator' as const] : []),
    ],
    addresses: peer.addresses,
    reachable: true,
    self: false,
    capacity: null,
    load: null,
    executorProblem: null,
  }))
  return { peers: [self, ...others] }
}
