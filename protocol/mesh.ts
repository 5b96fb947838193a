// The mesh's own wire contract: join tokens (Docker Swarm's `SWMTKN-1-…` is the model) and the
// frames of the join protocol. Raft frames are binary; their layout is in node/mesh.
import { z } from 'zod'
import { utf8Bytes } from './bytes.ts'
import * as limits from './limits.ts'

/** libp2p protocol ids of the mesh. */
export const RAFT_PROTOCOL = '/gridx/raft/1.0.0'
export const JOIN_PROTOCOL = '/gridx/join/1.0.0'
/** Live output of jobs, from the coordinator to the peers whose clients follow them. */
export const LOGS_PROTOCOL = '/gridx/logs/1.0.0'
/** The coordinator's view of the members and executors, for peers that do not see them. */
export const VIEW_PROTOCOL = '/gridx/view/1.0.0'

/** A token admits a peer as an executor (runs jobs) or as a voter (may be promoted to vote). */
export const JOIN_ROLES = ['voter', 'executor'] as const
export type JoinRole = (typeof JOIN_ROLES)[number]

const TOKEN_PREFIX = 'GRIDX'
const TOKEN_VERSION = '1'

/** The secret's bytes: 256 bits, as many as a sha-256 preimage needs. */
export const JOIN_SECRET_BYTES = 32

/** Lower-case RFC 4648 base32: no padding, and no letters that a person would misread. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'
const SECRET_CHARS = Math.ceil((JOIN_SECRET_BYTES * 8) / 5)

/** A mesh id: letters, digits and dashes, as `gridx init` makes them (`mesh-…`). */
const MESH_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/
/** A PeerId as text: base58btc (what every Ed25519 PeerId prints as) or a CIDv1 in base32. */
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{40,100}$|^b[a-z2-7]{40,120}$/

export interface JoinToken {
  readonly role: JoinRole
  readonly meshId: string
  /** The PeerId of the member that issued the token: the joiner refuses any other peer. */
  readonly issuer: string
  /** The secret, as printed in the token (base32); the member keeps only its sha-256. */
  readonly secret: string
  /** A same-owner token (`gridx token --same-owner`, role `voter+owner` or `executor+owner`
   * in the text): its joiner is admitted with the issuer's owner account. */
  readonly sameOwner?: true
}

export type JoinTokenProblem =
  'not-a-token' | 'version' | 'role' | 'mesh-id' | 'issuer' | 'secret' | 'other-mesh' | 'wrong-role'

/** A string that is not a usable join token; `problem` says which part is wrong. */
export class JoinTokenError extends Error {
  readonly problem: JoinTokenProblem

  constructor(problem: JoinTokenProblem, message: string) {
    super(message)
    this.name = 'JoinTokenError'
    this.problem = problem
  }
}

/** Marks the role of a same-owner token; `+` cannot occur in a mesh id, a role or a PeerId. */
const SAME_OWNER_MARK = '+owner'

/** `GRIDX-1-<role>[+owner]-<mesh id>-<issuer PeerId>-<secret>`. */
export function formatJoinToken(token: JoinToken): string {
  const role = token.sameOwner === true ? `${token.role}${SAME_OWNER_MARK}` : token.role
  const text = [TOKEN_PREFIX, TOKEN_VERSION, role, token.meshId, token.issuer, token.secret]
  parseJoinToken(text.join('-'))
  return text.join('-')
}

/** Reads a token; throws JoinTokenError naming the part that is wrong. A mesh id may hold
 * dashes, so the issuer and secret are read from the end. */
export function parseJoinToken(text: string): JoinToken {
  const parts = text.trim().split('-')
  if (parts.length < 6 || parts[0] !== TOKEN_PREFIX) {
    throw new JoinTokenError('not-a-token', 'this is not a Grid-X join token (GRIDX-1-…)')
  }
  if (parts[1] !== TOKEN_VERSION) {
    throw new JoinTokenError('version', `join token version ${parts[1]} is not supported`)
  }
  const sameOwner = parts[2]?.endsWith(SAME_OWNER_MARK) === true
  const role = (sameOwner ? parts[2]?.slice(0, -SAME_OWNER_MARK.length) : parts[2]) as JoinRole
  if (!JOIN_ROLES.includes(role)) {
    throw new JoinTokenError('role', `the token's role "${parts[2]}" is not voter or executor`)
  }
  const secret = parts[parts.length - 1] as string
  const issuer = parts[parts.length - 2] as string
  const meshId = parts.slice(3, -2).join('-')
  if (!MESH_ID.test(meshId)) throw new JoinTokenError('mesh-id', 'the token names no valid mesh')
  if (!PEER_ID.test(issuer)) {
    throw new JoinTokenError('issuer', 'the token names no valid issuer PeerId')
  }
  decodeJoinSecret(secret)
  return sameOwner ? { role, meshId, issuer, secret, sameOwner } : { role, meshId, issuer, secret }
}

/** Checks a parsed token against what the joiner expects before it dials anyone: a peer
 * that already belongs to a mesh, or that was asked to join as a voter, says so. */
export function expectJoinToken(
  token: JoinToken,
  expected: { readonly meshId?: string; readonly role?: JoinRole },
): void {
  if (expected.meshId !== undefined && token.meshId !== expected.meshId) {
    throw new JoinTokenError(
      'other-mesh',
      `the token is for mesh ${token.meshId}, not ${expected.meshId}, which this peer belongs to`,
    )
  }
  if (expected.role !== undefined && token.role !== expected.role) {
    throw new JoinTokenError(
      'wrong-role',
      `the token admits ${article(token.role)} ${token.role}, not ${article(expected.role)} ${expected.role}`,
    )
  }
}

function article(role: JoinRole): string {
  return role === 'executor' ? 'an' : 'a'
}

/** The secret's bytes in a token's text form. */
export function encodeJoinSecret(bytes: Uint8Array): string {
  if (bytes.byteLength !== JOIN_SECRET_BYTES) {
    throw new JoinTokenError('secret', `a join secret is ${JOIN_SECRET_BYTES} bytes`)
  }
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += BASE32[(buffer >> bits) & 31]
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31]
  return out
}

/** The bytes of a secret in its text form; refuses any other length, alphabet or padding, so
 * each secret has exactly one spelling. */
export function decodeJoinSecret(text: string): Uint8Array {
  const wrong = () => new JoinTokenError('secret', 'the token secret is malformed')
  if (text.length !== SECRET_CHARS) throw wrong()
  const out = new Uint8Array(JOIN_SECRET_BYTES)
  let buffer = 0
  let bits = 0
  let at = 0
  for (const char of text) {
    const value = BASE32.indexOf(char)
    if (value < 0) throw wrong()
    buffer = ((buffer << 5) | value) & 0xfff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[at++] = (buffer >> bits) & 0xff
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) throw wrong()
  return out
}

const boundedText = (max: number) =>
  z.string().refine((text) => utf8Bytes(text) <= max, { message: `longer than ${max} bytes` })

/** The joiner's one frame: the token's claims, the secret, and who owns the joining peer. */
export const joinRequestSchema = z
  .object({
    meshId: z.string().regex(MESH_ID),
    role: z.enum(JOIN_ROLES),
    secret: z.string().length(SECRET_CHARS),
    /** The account paid for the jobs this peer runs: its PeerId unless `--payout` says. */
    owner: boundedText(limits.RAFT_NODE_ID_BYTES_MAX).pipe(z.string().min(1)),
    /** A same-owner token: the member admits the joiner with the owner the secret names. */
    sameOwner: z.literal(true).optional(),
  })
  .strict()
export type JoinRequest = z.infer<typeof joinRequestSchema>

/** Why a join was refused. The joiner prints the message; the code lets a script tell. */
export const JOIN_REFUSALS = [
  /** The secret matches no current token of that role. */
  'WRONG_SECRET',
  /** The secret was a token of this mesh, since replaced with `gridx token --rotate`. */
  'ROTATED',
  /** The token names another mesh than the member's. */
  'OTHER_MESH',
  /** The secret is a token of the other role. */
  'WRONG_ROLE',
  /** A same-owner token whose secret is no peer's current same-owner secret of that role. */
  'WRONG_OWNER_SECRET',
  /** The request is not a join request this member can read. */
  'BAD_REQUEST',
  /** The mesh could not commit the admission now (no coordinator); retrying may succeed. */
  'UNAVAILABLE',
] as const
export type JoinRefusal = (typeof JOIN_REFUSALS)[number]

export const meshMemberSchema = z
  .object({
    peerId: z.string().regex(PEER_ID),
    addresses: z.array(boundedText(256)).max(limits.JOIN_ADDRESSES_PER_MEMBER_MAX),
  })
  .strict()
export type MeshMember = z.infer<typeof meshMemberSchema>

/** The member's one frame: accepted, with what the joiner needs to reach the mesh, or not. */
export const joinResponseSchema = z.discriminatedUnion('accepted', [
  z
    .object({
      accepted: z.literal(true),
      meshId: z.string().regex(MESH_ID),
      members: z.array(meshMemberSchema).max(limits.JOIN_MEMBERS_MAX),
    })
    .strict(),
  z
    .object({
      accepted: z.literal(false),
      code: z.enum(JOIN_REFUSALS),
      message: boundedText(limits.ERROR_ECHO_CHARS_MAX * 4),
    })
    .strict(),
])
export type JoinResponse = z.infer<typeof joinResponseSchema>
