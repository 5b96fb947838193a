// The join tokens this peer issues (`gridx token [--voter] [--rotate]`). The replicated state
// keeps only the secrets' hashes; the secrets themselves stay in the issuing peer's data dir
// (mode 0600), so that `gridx token` can print the same token again. A peer whose file lacks
// a secret matching the replicated hash (a peer that joined, a mesh migrated from the
// one-machine release, a file lost) issues by rotating: a new secret, its hash committed.
// Every member but the founder issues secrets of its own (their hashes replicated by issuer), so
// that `gridx token` on one member leaves the tokens of the others good; `--rotate` replaces
// only the tokens of the member it runs on.
// A same-owner token (`--same-owner`) carries a secret of this peer's own, whose hash the
// state keeps with this peer's owner: its joiner is admitted with that owner's account.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { MeshRecord, RaftDriver } from '../../ledger/index.ts'
import { formatJoinToken, GridxError } from '../../protocol/index.ts'
import type { JoinRefusal, JoinRole } from '../../protocol/index.ts'
import { generateJoinSecret, hashJoinSecret } from '../mesh/index.ts'

/** The join secrets of the tokens this peer issued, in its data dir. */
export const JOIN_SECRETS_FILE = 'join-secrets.json'

/** The file's keys: a role, or `owner-<role>` for the same-owner secret of that role. */
type SecretName = JoinRole | `owner-${JoinRole}`
type Secrets = Partial<Record<SecretName, string>>
const SECRET_NAMES = ['voter', 'executor', 'owner-voter', 'owner-executor'] as const

export async function loadJoinSecrets(dataDir: string): Promise<Secrets> {
  try {
    const parsed = JSON.parse(await readFile(join(dataDir, JOIN_SECRETS_FILE), 'utf8')) as unknown
    const out: Secrets = {}
    for (const role of SECRET_NAMES) {
      const value = (parsed as Record<string, unknown>)[role]
      if (typeof value === 'string') out[role] = value
    }
    return out
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw error
  }
}

/** Written whole and renamed into place: a crash leaves the old file or the new, never half. */
export async function saveJoinSecrets(dataDir: string, secrets: Secrets): Promise<void> {
  const path = join(dataDir, JOIN_SECRETS_FILE)
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(temporary, `${JSON.stringify(secrets)}\n`, { mode: 0o600, flush: true })
  await rename(temporary, path)
}

export interface JoinTokensInit {
  readonly dataDir: string
  readonly peerId: string
  readonly ledger: RaftDriver
}

export interface IssueOptions {
  readonly rotate: boolean
  /** A same-owner token: its joiner is admitted with this peer's owner. */
  readonly sameOwner: boolean
}

export class JoinTokens {
  readonly #init: JoinTokensInit
  /** One issue at a time: two rotations at once would each keep only their own secret. */
  #queue: Promise<unknown> = Promise.resolve()

  constructor(init: JoinTokensInit) {
    this.#init = init
  }

  issue(role: JoinRole, options: IssueOptions): Promise<string> {
    const next = this.#queue.then(() => this.#issue(role, options))
    this.#queue = next.catch(() => undefined)
    return next
  }

  async #issue(role: JoinRole, { rotate, sameOwner }: IssueOptions): Promise<string> {
    const { dataDir, peerId, ledger } = this.#init
    const mesh = (await ledger.read()).mesh
    if (mesh === null) throw new GridxError('UNAVAILABLE', 'this mesh has no genesis yet')
    const secrets = await loadJoinSecrets(dataDir)
    const name: SecretName = sameOwner ? `owner-${role}` : role
    // The founder's tokens carry the mesh's secrets; every other member's carry its own, so
    // that a token printed on one member never replaces one printed on another.
    const founder = mesh.founder === peerId
    const replicated = sameOwner
      ? mesh.ownerSecrets?.find((s) => s.issuer === peerId && s.role === role)?.hash
      : founder
        ? mesh.secrets[role]
        : ownJoinSecretHashes(mesh, peerId)[role]
    let secret = secrets[name]
    if (rotate || secret === undefined || hashJoinSecret(secret) !== replicated) {
      secret = generateJoinSecret()
      // Kept before it is committed: a crash in between leaves a secret whose hash the mesh
      // lacks, which the next call replaces; the other order could commit an unknown secret.
      await saveJoinSecrets(dataDir, { ...secrets, [name]: secret })
      const hash = hashJoinSecret(secret)
      const result = await ledger.propose(
        sameOwner
          ? { type: 'mesh.rotate-owner-secret', issuer: peerId, role, hash }
          : founder
            ? { type: 'mesh.rotate-secret', role, hash }
            : { type: 'mesh.rotate-secret', role, hash, issuer: peerId },
      )
      if (!result.ok) throw new GridxError(result.error.name, result.error.message)
    }
    const token = { role, meshId: mesh.meshId, issuer: peerId, secret }
    return formatJoinToken(sameOwner ? { ...token, sameOwner } : token)
  }
}

/** The hashes of the secrets `peerId` issued of its own, by role (none for the founder, whose
 * tokens carry the mesh's): what that member judges its own tokens against, beside the mesh's. */
export function ownJoinSecretHashes(
  mesh: Pick<MeshRecord, 'issuerSecrets'>,
  peerId: string,
): Partial<Record<JoinRole, string>> {
  const own: Partial<Record<JoinRole, string>> = {}
  for (const secret of mesh.issuerSecrets ?? []) {
    if (secret.issuer === peerId) own[secret.role] = secret.hash
  }
  return own
}

/** The member's verdict on a same-owner token's secret: the owner it admits the joiner with,
 * or why it is refused. Compared in constant time, as the mesh's own secrets are. */
export function judgeOwnerSecret(
  secret: string,
  role: JoinRole,
  mesh: Pick<MeshRecord, 'ownerSecrets' | 'secrets'>,
): { readonly owner: string } | { readonly refusal: JoinRefusal; readonly message: string } {
  let presented: Buffer
  try {
    presented = Buffer.from(hashJoinSecret(secret), 'hex')
  } catch {
    return { refusal: 'WRONG_OWNER_SECRET', message: 'the token’s secret is malformed' }
  }
  const matches = (hash: string) => {
    const stored = Buffer.from(hash, 'hex')
    return stored.byteLength === presented.byteLength && timingSafeEqual(stored, presented)
  }
  const found = (mesh.ownerSecrets ?? []).find((s) => matches(s.hash))
  if (found !== undefined && found.role === role) return { owner: found.owner }
  if (found !== undefined) {
    return { refusal: 'WRONG_ROLE', message: `the secret belongs to the other role, not ${role}` }
  }
  if (mesh.secrets.rotated.some(matches)) {
    return {
      refusal: 'ROTATED',
      message:
        'the token was replaced with `gridx token --same-owner --rotate`: ask for the new one',
    }
  }
  return {
    refusal: 'WRONG_OWNER_SECRET',
    message: 'the token’s secret is no peer’s same-owner secret: ask its owner for a new token',
  }
}
