// The join tokens this peer issues (`gridx token [--voter] [--rotate]`). The replicated state
// keeps only the secrets' hashes; the secrets themselves stay in the issuing peer's data dir
// (mode 0600), so that `gridx token` can print the same token again. A peer whose file lacks
// a secret matching the replicated hash (a peer that joined, a mesh migrated from the
// one-machine release, a file lost) issues by rotating: a new secret, its hash committed.
import { randomBytes } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RaftDriver } from '../../ledger/index.ts'
import { formatJoinToken, GridxError } from '../../protocol/index.ts'
import type { JoinRole } from '../../protocol/index.ts'
import { generateJoinSecret, hashJoinSecret } from '../mesh/index.ts'

/** The join secrets of the tokens this peer issued, in its data dir. */
export const JOIN_SECRETS_FILE = 'join-secrets.json'

type Secrets = Partial<Record<JoinRole, string>>

export async function loadJoinSecrets(dataDir: string): Promise<Secrets> {
  try {
    const parsed = JSON.parse(await readFile(join(dataDir, JOIN_SECRETS_FILE), 'utf8')) as unknown
    const out: Secrets = {}
    for (const role of ['voter', 'executor'] as const) {
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

export class JoinTokens {
  readonly #init: JoinTokensInit
  /** One issue at a time: two rotations at once would each keep only their own secret. */
  #queue: Promise<unknown> = Promise.resolve()

  constructor(init: JoinTokensInit) {
    this.#init = init
  }

  issue(role: JoinRole, rotate: boolean): Promise<string> {
    const next = this.#queue.then(() => this.#issue(role, rotate))
    this.#queue = next.catch(() => undefined)
    return next
  }

  async #issue(role: JoinRole, rotate: boolean): Promise<string> {
    const { dataDir, peerId, ledger } = this.#init
    const mesh = (await ledger.read()).mesh
    if (mesh === null) throw new GridxError('UNAVAILABLE', 'this mesh has no genesis yet')
    const secrets = await loadJoinSecrets(dataDir)
    let secret = secrets[role]
    if (rotate || secret === undefined || hashJoinSecret(secret) !== mesh.secrets[role]) {
      secret = generateJoinSecret()
      // Kept before it is committed: a crash in between leaves a secret whose hash the mesh
      // lacks, which the next call replaces; the other order could commit an unknown secret.
      await saveJoinSecrets(dataDir, { ...secrets, [role]: secret })
      const result = await ledger.propose({
        type: 'mesh.rotate-secret',
        role,
        hash: hashJoinSecret(secret),
      })
      if (!result.ok) throw new GridxError(result.error.name, result.error.message)
    }
    return formatJoinToken({ role, meshId: mesh.meshId, issuer: peerId, secret })
  }
}
