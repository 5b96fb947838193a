// The joiner's side of /gridx/join/1.0.0 (`gridx start --join HOST[:PORT] --token T`): dial the
// bare address, make sure the Noise handshake proved the peer there is the token's issuer,
// present the secret, and read the verdict.
import type { Libp2p } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isIP } from 'node:net'
import { expectJoinToken, joinResponseSchema, parseJoinToken } from '../../protocol/index.ts'
import type { JoinRole, JoinToken, MeshMember } from '../../protocol/index.ts'
import * as constants from './constants.ts'
import { ImpostorError, JoinFailedError, JoinRefusedError } from './errors.ts'

/** The TCP port `gridx start` listens on unless told otherwise (`--p2p-port`). */
export const DEFAULT_P2P_PORT = 4001

export interface JoinOptions {
  /** The account paid for what this peer runs. */
  readonly owner: string
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
  /** What the token must name: the mesh this peer belongs to, the role it was asked for. */
  readonly expect?: { readonly meshId?: string; readonly role?: JoinRole }
}

export interface Joined {
  readonly meshId: string
  /** The issuer's view of the mesh: who to reach, and where. */
  readonly members: readonly MeshMember[]
  readonly issuer: string
}

/** `HOST[:PORT]` or a multiaddr, as a multiaddr without any `/p2p/` part: the PeerId to trust
 * comes from the token, never from the address. */
export function joinAddress(address: string): Multiaddr {
  if (address.startsWith('/')) {
    const parsed = multiaddr(address)
    const p2p = parsed.getComponents().findIndex((component) => component.name === 'p2p')
    return p2p < 0 ? parsed : multiaddr(parsed.getComponents().slice(0, p2p))
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address)
  const [host, port] = bracketed
    ? [bracketed[1] as string, bracketed[2]]
    : isIP(address) === 6
      ? [address, undefined]
      : (address.split(':') as [string, string | undefined])
  const protocol = isIP(host) === 4 ? 'ip4' : isIP(host) === 6 ? 'ip6' : 'dns'
  return multiaddr(`/${protocol}/${host}/tcp/${port ?? DEFAULT_P2P_PORT}`)
}

/** Joins the mesh the token names through the member at `address`. Throws ImpostorError,
 * JoinRefusedError (with the member's code) or JoinFailedError; JoinTokenError, before any
 * dial, for a token that does not parse or is not what `options.expect` says. */
export async function joinMesh(
  node: Pick<Libp2p, 'dial'>,
  address: string,
  tokenText: string | JoinToken,
  options: JoinOptions,
): Promise<Joined> {
  const token = typeof tokenText === 'string' ? parseJoinToken(tokenText) : tokenText
  expectJoinToken(token, options.expect ?? {})
  const timeout = AbortSignal.timeout(options.timeoutMs ?? constants.JOIN_TIMEOUT_MS)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  const target = joinAddress(address)
  let connection
  try {
    connection = await node.dial(target, { signal })
  } catch (error) {
    throw new JoinFailedError(`cannot reach ${target.toString()}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  const remote = connection.remotePeer.toString()
  if (remote !== token.issuer) {
    const impostor = new ImpostorError(target.toString(), remote, token.issuer)
    connection.abort(impostor)
    throw impostor
  }
  try {
    const stream = await connection.newStream(constants.JOIN_PROTOCOL, { signal })
    const lp = lpStream(stream, { maxDataLength: constants.JOIN_FRAME_BYTES_MAX })
    const request = {
      meshId: token.meshId,
      role: token.role,
      secret: token.secret,
      owner: options.owner,
      ...(token.sameOwner === true ? { sameOwner: true } : {}),
    }
    await lp.write(new TextEncoder().encode(JSON.stringify(request)), { signal })
    const reply = joinResponseSchema.parse(
      JSON.parse(new TextDecoder().decode((await lp.read({ signal })).subarray())),
    )
    await stream.close({ signal })
    if (!reply.accepted) throw new JoinRefusedError(reply.code, reply.message)
    return { meshId: reply.meshId, members: reply.members, issuer: remote }
  } catch (error) {
    if (error instanceof JoinRefusedError) throw error
    throw new JoinFailedError(`the join with ${remote} broke off: ${(error as Error).message}`, {
      cause: error,
    })
  }
}
