// Join secrets on the member side: made from 32 random bytes, kept only as their sha-256, and
// compared in constant time, so neither a copy of the mesh state nor a stopwatch yields one.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { JOIN_SECRET_BYTES, decodeJoinSecret, encodeJoinSecret } from '../../protocol/index.ts'
import type { JoinRefusal, JoinRole } from '../../protocol/index.ts'

/** A new secret in the text form a token carries. */
export function generateJoinSecret(): string {
  return encodeJoinSecret(randomBytes(JOIN_SECRET_BYTES))
}

/** The sha-256 of a secret's bytes, in hex: what the mesh state keeps instead of the secret. */
export function hashJoinSecret(secret: string): string {
  return createHash('sha256').update(decodeJoinSecret(secret)).digest('hex')
}

/** The hashes a member judges a presented secret against (from the replicated state). */
export interface JoinSecretHashes {
  readonly voter: string
  readonly executor: string
  /** Hashes of tokens replaced by `gridx token --rotate`: named as such when presented. */
  readonly rotated: readonly string[]
  /** The judging member's own secrets by role, when it is not the founder and has issued one
   * (`gridx token` there): good beside the mesh's, at this member only. */
  readonly own?: Partial<Record<JoinRole, string>>
}

/** Undefined when `secret` is the current secret of `role`; else why the join is refused. */
export function judgeJoinSecret(
  secret: string,
  role: JoinRole,
  hashes: JoinSecretHashes,
): JoinRefusal | undefined {
  let presented: Buffer
  try {
    presented = Buffer.from(hashJoinSecret(secret), 'hex')
  } catch {
    return 'WRONG_SECRET'
  }
  const matches = (hash: string) => {
    const stored = Buffer.from(hash, 'hex')
    return stored.byteLength === presented.byteLength && timingSafeEqual(stored, presented)
  }
  const current = (of: JoinRole) => {
    const own = hashes.own?.[of]
    return matches(hashes[of]) || (own !== undefined && matches(own))
  }
  if (current(role)) return undefined
  if (current(role === 'voter' ? 'executor' : 'voter')) return 'WRONG_ROLE'
  if (hashes.rotated.some(matches)) return 'ROTATED'
  return 'WRONG_SECRET'
}
