// What this peer shows of the mesh in `mesh.info` and `mesh.peers`. The replicated state says
// who is admitted (owner, roles, addresses) and Raft says who votes and leads; what only the
// coordinator knows (each member's health and last contact, each executor's capacity, load
// and last heartbeat) is the coordinator's own view, asked for over `/gridx/view/1.0.0` by a
// peer that is not the coordinator. When it cannot be asked, the answer says so instead of
// guessing: a follower's own contact with the members says nothing of their health.
import { jobsByState } from '../../ledger/index.ts'
import type { RaftDriver } from '../../ledger/index.ts'
import type { MeshMemberView, PeerView, Results } from '../../protocol/index.ts'
import { VERSION } from '../local/index.ts'
import type { MeshNode } from '../mesh/index.ts'
import type { CoordinatorView, ExecutorViewEntry, KnownView } from './coordinator-view.ts'
import type { LocalExecutor } from './daemon.ts'

export interface MeshViewsInit {
  readonly ledger: RaftDriver
  readonly meshId: string
  readonly peerId: string
  /** The account this peer's API token acts as. */
  readonly owner: string
  readonly mesh: Pick<MeshNode, 'addresses' | 'connectedPeers'>
  readonly executor: LocalExecutor | null
  /** The Raft members with the autopilot's health: meaningful while this peer leads. */
  readonly members: () => MeshMemberView[]
  /** The executors connected to this peer's executor server: while this peer leads. */
  readonly executors: () => ExecutorViewEntry[]
  /** Asks the coordinator for its view; rejects when it cannot. */
  readonly fetch: (coordinator: string, addresses: readonly string[]) => Promise<CoordinatorView>
  readonly now: () => number
}

export class MeshViews {
  readonly #init: MeshViewsInit

  constructor(init: MeshViewsInit) {
    this.#init = init
  }

  /** The coordinator's view while this peer leads (what `/gridx/view/1.0.0` answers). */
  local(): KnownView | null {
    const { ledger, executor, peerId, now } = this.#init
    if (ledger.status().role !== 'leader') return null
    const status = executor?.status()
    // This peer's own executor runs in-process: it is as fresh as the moment of asking.
    const own: ExecutorViewEntry[] = status?.available
      ? [{ peerId, capacity: status.capacity, load: status.load, lastHeartbeatMs: now() }]
      : []
    return { members: this.#init.members(), executors: [...own, ...this.#init.executors()] }
  }

  /** The coordinator's view, or why it is not known here. */
  async #view(): Promise<{ view: KnownView } | { problem: string }> {
    const local = this.local()
    if (local !== null) return { view: local }
    const leader = this.#init.ledger.status().leader
    if (leader === undefined || leader === null) {
      return { problem: 'the mesh has no coordinator now (an election)' }
    }
    const addresses = this.#init.ledger.localRead().peers.get(leader)?.addresses ?? []
    try {
      const reply = await this.#init.fetch(leader, addresses)
      if (reply.coordinator) return { view: { members: reply.members, executors: reply.executors } }
      return { problem: `${leader} no longer coordinates the mesh` }
    } catch (error) {
      return { problem: `the coordinator ${leader} did not answer: ${(error as Error).message}` }
    }
  }

  async info(): Promise<Results['mesh.info']> {
    const { ledger, meshId, peerId, owner } = this.#init
    const known = await this.#view()
    const state = ledger.localRead()
    const status = ledger.status()
    return {
      meshId,
      peerId,
      owner,
      coordinator: status.leader,
      term: status.term,
      appliedIndex: state.appliedIndex,
      version: VERSION,
      policy: state.policy,
      queueLength: state.queue.length,
      jobsByState: jobsByState(state),
      commitIndex: status.commit,
      voterTarget: state.mesh?.voterTarget ?? 1,
      ...('view' in known
        ? { members: known.view.members }
        : { members: this.#init.members(), membersUnknown: known.problem }),
    }
  }

  /** Every admitted peer, this one first, with what the coordinator knows of its executor. */
  async peers(): Promise<Results['mesh.peers']> {
    const { ledger, peerId, mesh, executor } = this.#init
    const known = await this.#view()
    const state = ledger.localRead()
    const raft = ledger.status()
    const connected = new Map(mesh.connectedPeers().map((peer) => [peer.peerId, peer.addresses]))
    const view = 'view' in known ? known.view : null
    const problem = 'problem' in known ? known.problem : null
    const heard = new Map(view?.executors.map((entry) => [entry.peerId, entry]) ?? [])
    const healthy = new Set(view?.members.filter((m) => m.healthy).map((m) => m.peerId) ?? [])
    const ids = [peerId, ...[...state.peers.keys()].filter((id) => id !== peerId)]
    const own = executor?.status()
    const peers = ids.map((id): PeerView => {
      const self = id === peerId
      const entry = heard.get(id)
      const runs = self ? own?.available === true : entry?.capacity != null
      return {
        peerId: id,
        owner: state.peers.get(id)?.owner ?? (self ? this.#init.owner : id),
        roles: [
          'peer',
          ...(raft.appliedConf.voters.includes(id) ? ['voter' as const] : []),
          ...(raft.leader === id ? ['coordinator' as const] : []),
          ...(runs ? ['executor' as const] : []),
        ],
        addresses: self
          ? mesh.addresses()
          : [...(state.peers.get(id)?.addresses ?? connected.get(id) ?? [])],
        reachable: self || connected.has(id) || healthy.has(id) || entry !== undefined,
        self,
        capacity: self ? (own?.available ? own.capacity : null) : (entry?.capacity ?? null),
        load: self ? (own?.load ?? null) : (entry?.load ?? null),
        executorProblem: self
          ? executor === null
            ? 'started with --no-executor'
            : (own?.problem ?? null)
          : null,
        ...(view === null ? {} : { lastHeartbeatMs: entry?.lastHeartbeatMs ?? null }),
      }
    })
    return problem === null ? { peers } : { peers, executorsUnknown: problem }
  }
}
