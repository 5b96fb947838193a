// What this peer shows of the mesh in `mesh.info` and `mesh.peers`. Until Raft joins several
// peers, this peer is the only voter and the coordinator, at term 1.
import { jobsByState } from '../../ledger/index.ts'
import type { Replica } from '../../ledger/index.ts'
import type { Results } from '../../protocol/index.ts'
import { VERSION } from '../local/index.ts'
import type { MeshNode } from '../mesh/index.ts'
import type { LocalExecutor } from './daemon.ts'

export function meshInfoView(init: {
  readonly replica: Replica
  readonly meshId: string
  readonly peerId: string
}): Results['mesh.info'] {
  const { state } = init.replica
  return {
    meshId: init.meshId,
    peerId: init.peerId,
    owner: init.peerId,
    coordinator: init.peerId,
    term: 1,
    appliedIndex: state.appliedIndex,
    version: VERSION,
    policy: state.policy,
    queueLength: state.queue.length,
    jobsByState: jobsByState(state),
  }
}

export function peersView(init: {
  readonly peerId: string
  readonly mesh: MeshNode
  readonly executor: LocalExecutor | null
}): Results['mesh.peers'] {
  const { peerId, mesh, executor } = init
  const status = executor?.status()
  const self = {
    peerId,
    owner: peerId,
    roles: [
      'peer' as const,
      'voter' as const,
      'coordinator' as const,
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
    owner: peer.peerId,
    roles: ['peer' as const],
    addresses: peer.addresses,
    reachable: true,
    self: false,
    capacity: null,
    load: null,
    executorProblem: null,
  }))
  return { peers: [self, ...others] }
}
