// The mesh's own records in the replicated state: genesis (applied first in every mesh, so the
// mesh id, policy and first voter are replicated, not local metadata), the hashes of the join
// secrets, and peer admission, which grants a new owner its credits once.
import {
  JOIN_ADDRESSES_PER_MEMBER_MAX,
  JOIN_ROTATED_HASHES_MAX,
  RAFT_MEMBERS_MAX,
} from '../../protocol/index.ts'
import { openAccount } from './accounts.ts'
import { loseJobsOf } from './jobs.ts'
import { fail, ok } from './result.ts'
import type { ApplyResult, Command, State } from './types.ts'

const SHA256_HEX = /^[0-9a-f]{64}$/

type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>

export function genesis(state: State, command: CommandOf<'mesh.genesis'>): ApplyResult {
  if (state.mesh !== null) {
    return fail('INVALID_STATE', `this mesh was founded already as ${state.mesh.meshId}`)
  }
  const { voter, executor } = command.secrets
  if (!SHA256_HEX.test(voter) || !SHA256_HEX.test(executor)) {
    return fail('INVALID_REQUEST', 'a join secret hash must be 64 hex digits')
  }
  if (![1, 3, 5].includes(command.voterTarget)) {
    return fail('INVALID_REQUEST', `the voter target must be 1, 3 or 5, not ${command.voterTarget}`)
  }
  state.policy = command.policy
  state.mesh = {
    meshId: command.meshId,
    founder: command.founder,
    voterTarget: command.voterTarget,
    secrets: { voter, executor, rotated: [] },
  }
  admitPeer(state, command.founder, command.owner, ['voter', 'executor'])
  return ok(null)
}

export function rotateSecret(state: State, command: CommandOf<'mesh.rotate-secret'>): ApplyResult {
  if (state.mesh === null) return fail('INVALID_STATE', 'the mesh has no genesis yet')
  if (!SHA256_HEX.test(command.hash)) {
    return fail('INVALID_REQUEST', 'a join secret hash must be 64 hex digits')
  }
  const secrets = state.mesh.secrets
  if (command.issuer === undefined) {
    const rotated = [...secrets.rotated, secrets[command.role]].slice(-JOIN_ROTATED_HASHES_MAX)
    state.mesh.secrets = { ...secrets, [command.role]: command.hash, rotated }
    return ok(null)
  }
  // A member other than the founder issues a secret of its own, so that printing a token on
  // one member never invalidates another member's token.
  const { issuer, role, hash } = command
  if (!state.peers.has(issuer)) return fail('NOT_FOUND', `${issuer} is not admitted`)
  const current = state.mesh.issuerSecrets ?? []
  const replaced = current.filter((s) => s.issuer === issuer && s.role === role)
  const rotated = [...secrets.rotated, ...replaced.map((s) => s.hash)].slice(
    -JOIN_ROTATED_HASHES_MAX,
  )
  state.mesh.secrets = { ...secrets, rotated }
  state.mesh.issuerSecrets = [
    ...current.filter((s) => !replaced.includes(s)),
    { issuer, role, hash },
  ]
  return ok(null)
}

/** Issues (or replaces) the same-owner secret of `issuer` for `role`: the owner it admits with
 * is the issuer's as the state records it, so a peer can only speak for its own owner. */
export function rotateOwnerSecret(
  state: State,
  command: CommandOf<'mesh.rotate-owner-secret'>,
): ApplyResult {
  if (state.mesh === null) return fail('INVALID_STATE', 'the mesh has no genesis yet')
  if (!SHA256_HEX.test(command.hash)) {
    return fail('INVALID_REQUEST', 'a join secret hash must be 64 hex digits')
  }
  const issuer = state.peers.get(command.issuer)
  if (issuer === undefined) return fail('NOT_FOUND', `${command.issuer} is not admitted`)
  const current = state.mesh.ownerSecrets ?? []
  const replaced = current.filter((s) => s.issuer === command.issuer && s.role === command.role)
  const { secrets } = state.mesh
  const rotated = [...secrets.rotated, ...replaced.map((s) => s.hash)].slice(
    -JOIN_ROTATED_HASHES_MAX,
  )
  state.mesh.secrets = { ...secrets, rotated }
  state.mesh.ownerSecrets = [
    ...current.filter((s) => !replaced.includes(s)),
    { issuer: command.issuer, owner: issuer.owner, role: command.role, hash: command.hash },
  ]
  return ok(null)
}

export function admit(state: State, command: CommandOf<'peer.admit'>): ApplyResult {
  if (state.mesh === null) return fail('INVALID_STATE', 'the mesh has no genesis yet')
  if (!state.peers.has(command.peer) && state.peers.size >= RAFT_MEMBERS_MAX) {
    return fail('QUEUE_FULL', `the mesh has ${RAFT_MEMBERS_MAX} peers already`)
  }
  return ok(admitPeer(state, command.peer, command.owner, command.roles))
}

/** The longest address a peer may record: the join reply's bound on one address. */
const ADDRESS_CHARS_MAX = 256

/** Records where an admitted peer listens now, so that any member can dial it by PeerId. */
export function peerAddress(state: State, command: CommandOf<'peer.address'>): ApplyResult {
  const peer = state.peers.get(command.peer)
  if (peer === undefined) return fail('NOT_FOUND', `${command.peer} is not admitted`)
  const { addresses } = command
  if (
    !Array.isArray(addresses) ||
    addresses.length > JOIN_ADDRESSES_PER_MEMBER_MAX ||
    addresses.some((a) => typeof a !== 'string' || a.length === 0 || a.length > ADDRESS_CHARS_MAX)
  ) {
    return fail(
      'INVALID_REQUEST',
      `at most ${JOIN_ADDRESSES_PER_MEMBER_MAX} addresses of 1 to ${ADDRESS_CHARS_MAX} characters`,
    )
  }
  state.peers.set(command.peer, { ...peer, addresses: [...addresses] })
  return ok(null)
}

/** A peer leaves the mesh for good: it is no longer admitted (every member refuses its
 * streams from this entry on), its executor registration goes, and the jobs it held are
 * requeued at no charge. Its owner's account and credits stay: they are not the peer's. The
 * Raft membership is the coordinator's to change after this entry (one change at a time). */
export function removePeer(state: State, command: CommandOf<'peer.remove'>): ApplyResult {
  if (!state.peers.has(command.peer)) return fail('NOT_FOUND', `${command.peer} is not admitted`)
  if (state.peers.size === 1) {
    return fail('INVALID_STATE', 'the last peer of a mesh cannot leave it: no one would hold it')
  }
  state.peers.delete(command.peer)
  state.executors.delete(command.peer)
  const requeued = loseJobsOf(state, command.peer, 'its executor left the mesh')
  return ok({ requeued })
}

/** Admits (or re-admits with new roles) a peer; its owner's account is opened, with the join
 * grant, only the first time that owner appears. */
function admitPeer(
  state: State,
  peer: string,
  owner: string,
  roles: readonly ('voter' | 'executor')[],
): { granted: boolean } {
  const existing = state.peers.get(peer)
  state.peers.set(peer, {
    peer,
    owner,
    roles: [...roles],
    admittedAt: existing?.admittedAt ?? state.logTime,
    ...(existing?.addresses === undefined ? {} : { addresses: existing.addresses }),
  })
  return { granted: openAccount(state, owner).created }
}
