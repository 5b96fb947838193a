// The daemon's mesh and ledger, started together: the libp2p node with our protocols behind
// the admission gate, the join (for `--join`), and the Raft driver on the node's transport.
// A data dir with no mesh and no --join founds one; a joined data dir rejoins with no flags.
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Clock, RaftDriver } from '../../ledger/index.ts'
import { JOIN_CATCH_UP_TIMEOUT_MS } from '../../protocol/index.ts'
import type { JoinToken } from '../../protocol/index.ts'
import { MeshNode } from '../mesh/index.ts'
import type { Identity, MeshPartition } from '../mesh/index.ts'
import type { VoterTarget } from '../coordinator/index.ts'
import { MembershipServices, trackContacts } from './coordinator-services.ts'
import { ComponentsPort } from './daemon-executors.ts'
import { foundMesh, openDaemonLedger, RAFT_DIR } from './daemon-ledger.ts'
import {
  admitJoiner,
  DataDirTakenError,
  followAddresses,
  knownMembers,
  loadJoinRecord,
  saveJoinRecord,
  syncMembership,
} from './mesh-membership.ts'
import type { JoinRecord } from './mesh-membership.ts'
import { LeaveRefusedError, leftMessage, loadLeftRecord } from './mesh-leave.ts'

export interface DaemonMeshInit {
  readonly dataDir: string
  readonly p2pHost: string
  readonly p2pPort: number
  readonly p2pWsPort?: number
  readonly logger: Logger
  readonly clock: Clock
  readonly raftTickMs?: number
  readonly electionTicks?: number
  /** `gridx start --join HOST[:PORT] --token T`: only for a data dir of no mesh yet. */
  readonly join?: { readonly address: string; readonly token: JoinToken }
  /** Voters a new mesh keeps (`--voters`), recorded in its genesis. */
  readonly voterTarget?: VoterTarget
  /** Millicredits a new mesh grants each owner (`--join-grant`), recorded in its genesis. */
  readonly joinGrantMc?: number
  /** Test-only: cuts this peer off from others while it runs. */
  readonly partition?: MeshPartition
}

export interface DaemonMesh {
  readonly mesh: MeshNode
  /** libp2p's components, for the executor protocol's services made once the ledger is. */
  readonly port: ComponentsPort
  readonly ledger: RaftDriver
  readonly meshId: string
  readonly membership: MembershipServices
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

/** Starts the mesh node, joins when asked, and opens the ledger on the node's transport; each
 * part is handed to `push` as it starts, so the caller stops them in reverse. */
export async function startDaemonMesh(
  init: DaemonMeshInit,
  identity: Identity,
  push: (name: string, stop: () => Promise<void> | void) => void,
): Promise<DaemonMesh> {
  const left = await loadLeftRecord(init.dataDir)
  if (left !== null) throw new LeaveRefusedError(leftMessage(init.dataDir, left))
  let record = await loadJoinRecord(init.dataDir)
  if (
    init.join !== undefined &&
    (record !== null || (await exists(join(init.dataDir, RAFT_DIR))))
  ) {
    throw new DataDirTakenError(
      `${init.dataDir} belongs to a mesh already: start it without --join to rejoin it, or ` +
        'give another --data-dir to join a new one',
    )
  }
  let ledger: RaftDriver | null = null
  // Before this peer holds the mesh's state, it trusts the members its join named.
  const trusted = new Set(record?.members.map((member) => member.peerId) ?? [])
  const isAdmitted = (peer: string): boolean => {
    const state = ledger?.localRead()
    if (state?.peers.has(peer) === true) return true
    return (state?.mesh ?? null) === null && trusted.has(peer)
  }
  const port = new ComponentsPort()
  const mesh: MeshNode = new MeshNode({
    privateKey: identity.privateKey,
    host: init.p2pHost,
    port: init.p2pPort,
    ...(init.p2pWsPort === undefined ? {} : { wsPort: init.p2pWsPort }),
    protocols: {
      isAdmitted,
      isRaftMember: (peer) => {
        const conf = ledger?.status().conf
        return conf !== undefined && (conf.voters.includes(peer) || conf.learners.includes(peer))
      },
      logger: init.logger,
      services: { gridxComponents: port.service },
      ...(init.partition === undefined ? {} : { partition: init.partition }),
      join: {
        meshId: () => ledger?.localRead().mesh?.meshId ?? '',
        admit: (request, { signal }) =>
          ledger === null
            ? Promise.resolve({
                accepted: false,
                code: 'UNAVAILABLE',
                message: 'this peer is starting',
              } as const)
            : admitJoiner(ledger, request, () => knownMembers(mesh), signal, identity.peerId),
      },
    },
  })
  await mesh.start()
  push('mesh', () => mesh.stop())
  if (init.join !== undefined) {
    const joined = await mesh.join(init.join.address, init.join.token, {
      owner: identity.peerId,
      expect: { meshId: init.join.token.meshId },
    })
    record = { meshId: joined.meshId, members: joined.members }
    await saveJoinRecord(init.dataDir, record)
    for (const member of record.members) trusted.add(member.peerId)
    init.logger.info({ meshId: record.meshId, via: joined.issuer }, 'joined the mesh')
  }
  // A joiner, like a restarted peer, dials the members it was told of: the coordinator may
  // not be the member it joined through, and it learns where this peer listens only so.
  if (record !== null) await rememberMembers(mesh, record, identity.peerId)
  const contacts = trackContacts(mesh.raft, init.clock)
  const opened = await openDaemonLedger({
    ...init,
    peerId: identity.peerId,
    transport: contacts.transport,
    bootstrap: record === null,
  })
  ledger = opened
  push('ledger', () => opened.stop())
  const meshId =
    record === null
      ? await foundMesh(opened, identity.peerId, init.dataDir, init)
      : init.join !== undefined
        ? await caughtUp(opened, record)
        : // A restart has its replica: it must come up without a quorum (all voters restarting
          // after a power cut come back one at a time); writes wait for one, reads are linearizable.
          (opened.localRead().mesh?.meshId ?? record.meshId)
  push('addresses', await followAddresses(opened, mesh, init.logger))
  push('membership', syncMembership(opened, init.logger))
  const membership = new MembershipServices({ ...init, ledger: opened, ...contacts })
  push('autopilot', () => membership.stop())
  return { mesh, port, ledger: opened, meshId, membership }
}

/** Waits until the leader has caught this joined peer up. */
async function caughtUp(ledger: RaftDriver, record: JoinRecord): Promise<string> {
  const state = await ledger.read({ timeoutMs: JOIN_CATCH_UP_TIMEOUT_MS })
  return state.mesh?.meshId ?? record.meshId
}

/** Where the members were when this peer joined: where a joined or restarted peer looks for
 * them. It dials each, so that identify tells them where this peer listens now (a learner
 * sends nothing until the leader reaches it, and its old address may be gone). */
async function rememberMembers(mesh: MeshNode, record: JoinRecord, self: string): Promise<void> {
  const others = record.members.filter((member) => member.peerId !== self)
  for (const member of others) await mesh.raft.setPeerAddresses(member.peerId, member.addresses)
  await Promise.all(
    others.flatMap((member) =>
      member.addresses
        .filter((address) => !address.includes('/ws'))
        .slice(0, 1)
        .map((address) => mesh.dial(address, member.peerId).catch(() => undefined)),
    ),
  )
}
