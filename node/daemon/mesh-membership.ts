// How a peer becomes a member of the mesh. The member a joiner dials judges the token's secret
// against the replicated hashes and commits `peer.admit` (forwarded to the leader when it is a
// follower); the leader then adds every admitted peer it does not yet replicate to as a
// learner, one membership change at a time, and catches it up (by snapshot when the log it
// needs is compacted). Every admitted peer is a learner, so each can serve reads and forward
// writes; voter-token learners are the autopilot's to promote. The joiner keeps what the join
// told it (the mesh id, the members' addresses) in its data dir, so that a restart rejoins
// with no flags and never founds a mesh of its own. A peer that leaves (mesh-leave.ts) is
// removed from the membership the same way, by the leader, once `peer.remove` committed.
import { randomBytes } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { changeMembership, stepDown } from '../../ledger/index.ts'
import type { RaftDriver } from '../../ledger/index.ts'
import {
  ADDRESS_RETRY_MS,
  VOTER_LINKS_CHECK_MS,
  AUTOPILOT_INTERVAL_MS,
  JOIN_ADDRESSES_PER_MEMBER_MAX,
  JOIN_MEMBERS_MAX,
  LEADERSHIP_TRANSFER_TIMEOUT_MS,
  LEAVE_CONF_CHANGE_DELAY_MS,
} from '../../protocol/index.ts'
import type { MeshMember } from '../../protocol/index.ts'
import { judgeJoinSecret } from '../mesh/index.ts'
import type { AdmitRequest, AdmitResult, MeshNode } from '../mesh/index.ts'
import { judgeOwnerSecret, ownJoinSecretHashes } from './join-tokens.ts'

/** `--join` on a data dir that belongs to a mesh already. */
export class DataDirTakenError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DataDirTakenError'
  }
}

/** What a joined peer keeps of its join. */
export const MESH_JOIN_FILE = 'mesh-join.json'

export interface JoinRecord {
  readonly meshId: string
  readonly members: readonly MeshMember[]
}

export async function loadJoinRecord(dataDir: string): Promise<JoinRecord | null> {
  try {
    return JSON.parse(await readFile(join(dataDir, MESH_JOIN_FILE), 'utf8')) as JoinRecord
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

export async function saveJoinRecord(dataDir: string, record: JoinRecord): Promise<void> {
  const path = join(dataDir, MESH_JOIN_FILE)
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(temporary, `${JSON.stringify(record)}\n`, { mode: 0o600, flush: true })
  await rename(temporary, path)
}

/** The members a joiner is told of: this peer and every peer it is connected to. */
export function knownMembers(mesh: MeshNode): MeshMember[] {
  const bound = (addresses: readonly string[]) =>
    [...new Set(addresses)].slice(0, JOIN_ADDRESSES_PER_MEMBER_MAX)
  return [
    { peerId: mesh.peerId, addresses: bound(mesh.addresses()) },
    ...mesh.connectedPeers().map((peer) => ({
      peerId: peer.peerId,
      addresses: bound(peer.addresses),
    })),
  ].slice(0, JOIN_MEMBERS_MAX)
}

/** The join service's `admit` on member `self`: the secret is judged against the replicated
 * hashes (the mesh's and `self`'s own) as they are committed now (ReadIndex), and the
 * admission is answered only once `peer.admit` applied. */
export async function admitJoiner(
  ledger: RaftDriver,
  request: AdmitRequest,
  members: () => MeshMember[],
  signal: AbortSignal,
  self: string,
): Promise<AdmitResult> {
  const mesh = (await ledger.read({ signal })).mesh
  if (mesh === null) {
    return { accepted: false, code: 'UNAVAILABLE', message: 'this mesh has no genesis yet' }
  }
  let owner = request.owner
  if (request.sameOwner === true) {
    const verdict = judgeOwnerSecret(request.secret, request.role, mesh)
    if ('refusal' in verdict) {
      return { accepted: false, code: verdict.refusal, message: verdict.message }
    }
    owner = verdict.owner
  }
  const refusal =
    request.sameOwner === true
      ? undefined
      : judgeJoinSecret(request.secret, request.role, {
          ...mesh.secrets,
          own: ownJoinSecretHashes(mesh, self),
        })
  if (refusal !== undefined) {
    const message = {
      WRONG_SECRET: 'the token’s secret is not one of this mesh’s tokens',
      ROTATED: 'the token was replaced with `gridx token --rotate`: ask for the new one',
      WRONG_ROLE: `the secret belongs to the other role, not ${request.role}`,
    }[refusal as 'WRONG_SECRET' | 'ROTATED' | 'WRONG_ROLE']
    return { accepted: false, code: refusal, message: message ?? refusal }
  }
  const roles =
    request.role === 'voter' ? (['voter', 'executor'] as const) : (['executor'] as const)
  const result = await ledger.propose(
    { type: 'peer.admit', peer: request.peerId, owner, roles },
    { signal },
  )
  if (!result.ok) return { accepted: false, code: 'UNAVAILABLE', message: result.error.message }
  return { accepted: true, members: members() }
}

/**
 * The leader's side of membership: adds each admitted peer missing from the Raft configuration
 * as a learner, and removes each member that is no longer admitted (it left with `peer.remove`)
 * once it has had `delayMs` to learn that its removal committed; one change at a time. A
 * leader that finds itself removed hands leadership over first. Runs on every applied entry,
 * leadership change and AUTOPILOT_INTERVAL_MS; does nothing on followers. Returns the call
 * that stops it.
 */
export function syncMembership(
  ledger: RaftDriver,
  logger: Logger,
  delayMs = LEAVE_CONF_CHANGE_DELAY_MS,
): () => void {
  let inFlight = false
  /** Departed members by id: a timer until its delay is over, then null (ripe for removal). */
  const departed = new Map<string, NodeJS.Timeout | null>()
  const run = (what: string, peer: string, change: () => Promise<void>): void => {
    inFlight = true
    change().then(
      () => {
        inFlight = false
        logger.info({ peer }, what)
        review()
      },
      (error: unknown) => {
        inFlight = false
        logger.warn({ peer, err: error }, `could not do it: ${what}`)
      },
    )
  }
  const review = (): void => {
    const status = ledger.status()
    if (inFlight || status.role !== 'leader') return
    const peers = ledger.localRead().peers
    const members = [...status.conf.voters, ...status.conf.learners]
    track(members.filter((member) => !peers.has(member)))
    if (departed.has(ledger.id)) {
      run('handed over: this coordinator left the mesh', ledger.id, () =>
        stepDown(ledger, LEADERSHIP_TRANSFER_TIMEOUT_MS),
      )
      return
    }
    const leaving = [...departed].find(([, timer]) => timer === null)?.[0]
    if (leaving !== undefined) {
      run('removed a peer that left the mesh from its members', leaving, () =>
        changeMembership(ledger, { type: 'remove-node', node: leaving }),
      )
      return
    }
    const missing = [...peers.keys()].find((peer) => !members.includes(peer))
    if (missing === undefined) return
    run('added an admitted peer to the mesh as a learner', missing, () =>
      changeMembership(ledger, { type: 'add-learner', node: missing }),
    )
  }
  /** Starts the delay of each newly departed member and forgets those no longer departed. */
  const track = (now: readonly string[]): void => {
    for (const [peer, timer] of departed) {
      if (now.includes(peer)) continue
      if (timer !== null) clearTimeout(timer)
      departed.delete(peer)
    }
    for (const peer of now) {
      if (departed.has(peer)) continue
      const timer = setTimeout(() => {
        departed.set(peer, null)
        review()
      }, delayMs)
      // A pending removal must not keep a stopping daemon alive.
      timer.unref()
      departed.set(peer, peer === ledger.id ? null : timer)
    }
  }
  const stopApplied = ledger.onApplied(() => review())
  const stopLeadership = ledger.onLeadership(() => review())
  // Membership changes are not applied entries: after the autopilot removes a dead voter, an
  // idle mesh applies nothing, and the peer (still admitted) would stay out of the Raft
  // configuration when it comes back. The autopilot's cadence reviews it all the same.
  const timer = setInterval(review, AUTOPILOT_INTERVAL_MS)
  timer.unref()
  review()
  return () => {
    clearInterval(timer)
    stopApplied()
    stopLeadership()
    for (const timer of departed.values()) if (timer !== null) clearTimeout(timer)
    departed.clear()
  }
}

/**
 * Keeps libp2p's address book in step with the replicated addresses (`peer.address`), so that
 * the Raft transport reaches every member by PeerId, a restarted one included, and announces
 * this peer's own addresses when the mesh does not have them yet. Returns the unsubscribe.
 */
export async function followAddresses(
  ledger: RaftDriver,
  mesh: MeshNode,
  logger: Logger,
): Promise<() => void> {
  const known = new Map<string, string>()
  const sync = (): void => {
    for (const [peer, admitted] of ledger.localRead().peers) {
      const addresses = admitted.addresses
      if (peer === mesh.peerId || addresses === undefined) continue
      const key = addresses.join(' ')
      if (known.get(peer) === key) continue
      known.set(peer, key)
      mesh.raft.setPeerAddresses(peer, addresses).catch((error: unknown) => {
        logger.warn({ peer, err: error }, 'could not record the addresses of a peer')
      })
    }
  }
  sync()
  const warmed = new Set<string>()
  const warm = (): void => {
    // Every voter keeps a stream to every other voter, not only to the leader: after a
    // leadership transfer the new coordinator's first commit needs one at once.
    const { voters } = ledger.status().conf
    if (!voters.includes(mesh.peerId)) return
    for (const voter of voters) {
      if (voter === mesh.peerId || warmed.has(voter)) continue
      warmed.add(voter)
      mesh.raft.warm(voter)
    }
  }
  warm()
  const warming = setInterval(warm, VOTER_LINKS_CHECK_MS)
  const unsubscribe = ledger.onApplied((entry) => {
    if (entry.command.type === 'peer.address' || entry.command.type === 'peer.admit') sync()
  })
  const own = mesh.addresses().slice(0, JOIN_ADDRESSES_PER_MEMBER_MAX)
  const recorded = ledger.localRead().peers.get(mesh.peerId)?.addresses ?? []
  let stopped = false
  if (own.join(' ') !== recorded.join(' ')) {
    // In the background, until committed: a peer restarted while no quorum is up (its voters
    // restart one at a time) must still start, and tell the mesh where it is once it can.
    void recordAddresses(ledger, mesh.peerId, own, logger, () => stopped)
  }
  return () => {
    stopped = true
    clearInterval(warming)
    unsubscribe()
  }
}

async function recordAddresses(
  ledger: RaftDriver,
  peer: string,
  addresses: readonly string[],
  logger: Logger,
  stopped: () => boolean,
): Promise<void> {
  for (let attempt = 0; !stopped(); attempt++) {
    try {
      const result = await ledger.propose({ type: 'peer.address', peer, addresses: [...addresses] })
      if (!result.ok) logger.warn({ err: result.error }, 'could not record this peer’s addresses')
      return
    } catch (error) {
      if (stopped()) return
      if (attempt === 0) {
        logger.warn({ err: error }, 'no coordinator yet to record this peer’s addresses: retrying')
      }
      // A refusal that comes at once (overload) must not spin.
      await new Promise((resolve) => setTimeout(resolve, ADDRESS_RETRY_MS))
    }
  }
}
