// The coordinator's membership services, run while this peer leads: the autopilot (promotes
// voter-token learners up to the mesh's voter target, removes failed voters), fed by the last
// contact with each member, which this peer records from the Raft messages it receives.
import type { Logger } from 'pino'
import { raft } from '../../ledger/index.ts'
import type { Clock, RaftDriver, RaftTransport } from '../../ledger/index.ts'
import type { MeshMemberView } from '../../protocol/index.ts'
import { Autopilot, systemIntervalTimer } from '../coordinator/index.ts'
import type { MemberContact, MemberHealth, VoterTarget } from '../coordinator/index.ts'

/** A transport that notes when each peer was last heard from (on `clock`), for the autopilot. */
export function trackContacts(
  transport: RaftTransport,
  clock: Clock,
): { readonly transport: RaftTransport; readonly lastContact: ReadonlyMap<string, number> } {
  const lastContact = new Map<string, number>()
  return {
    lastContact,
    transport: {
      send: (messages) => transport.send(messages),
      listen: (handler) =>
        transport.listen({
          onMessage: (message) => {
            lastContact.set(message.from, clock.now())
            return handler.onMessage(message)
          },
          onSnapshotStatus: (to, delivered) => handler.onSnapshotStatus(to, delivered),
        }),
    },
  }
}

export interface MembershipServicesInit {
  readonly ledger: RaftDriver
  readonly lastContact: ReadonlyMap<string, number>
  readonly clock: Clock
  readonly logger: Logger
}

/** Runs an autopilot whenever this peer leads, with the mesh's voter target at that time. */
export class MembershipServices {
  readonly #init: MembershipServicesInit
  #autopilot: Autopilot | null = null
  readonly #unsubscribe: () => void

  constructor(init: MembershipServicesInit) {
    this.#init = init
    this.#unsubscribe = init.ledger.onLeadership((leading, status) => {
      // One line per change: how often the coordinator moves is what an operator asks first.
      const what = leading ? 'became the coordinator' : 'no longer the coordinator'
      init.logger.info({ term: status.term, leader: status.leader }, what)
      this.#lead(leading)
    })
    this.#lead(init.ledger.status().role === 'leader')
  }

  stop(): void {
    this.#unsubscribe()
    this.#lead(false)
  }

  /** Every voter and learner, with the health the autopilot last found on the leader. */
  members(): MeshMemberView[] {
    const status = this.#init.ledger.status()
    const health = new Map<string, MemberHealth>(
      (this.#autopilot?.members ?? []).map((member) => [member.id, member]),
    )
    const view = (peerId: string, role: 'voter' | 'learner'): MeshMemberView => {
      const known = health.get(peerId)
      return {
        peerId,
        role,
        healthy: known?.healthy ?? peerId === status.leader,
        matchIndex: status.progress[peerId]?.match ?? (peerId === status.id ? status.applied : 0),
        lastContactMs: known?.lastContactMs ?? this.#init.lastContact.get(peerId) ?? null,
      }
    }
    return [
      ...status.appliedConf.voters.map((peer) => view(peer, 'voter')),
      ...status.appliedConf.learners.map((peer) => view(peer, 'learner')),
    ]
  }

  #lead(leading: boolean): void {
    if (!leading) {
      this.#autopilot?.stop()
      this.#autopilot = null
      return
    }
    if (this.#autopilot !== null) return
    const { ledger, clock, logger, lastContact } = this.#init
    const voterTarget = (ledger.localRead().mesh?.voterTarget ?? 1) as VoterTarget
    this.#autopilot = new Autopilot({
      status: () => ledger.status(),
      contacts: () => {
        const peers = ledger.localRead().peers
        const contacts = new Map<raft.NodeId, MemberContact>()
        for (const [peer, admitted] of peers) {
          contacts.set(peer, {
            lastContactMs: peer === ledger.id ? clock.now() : lastContact.get(peer),
            voterCandidate: admitted.roles.includes('voter'),
          })
        }
        return contacts
      },
      proposeConfChange: async (change) => {
        ledger.node.proposeConfChange(change)
        ledger.schedule()
      },
      clock,
      timer: systemIntervalTimer,
      config: { voterTarget },
      onEvent: (event) => {
        if (event.type === 'failed' && event.error instanceof raft.ProposalDroppedError) return
        logger.info({ change: event.change, event: event.type }, 'autopilot')
      },
    })
    this.#autopilot.start()
  }
}
