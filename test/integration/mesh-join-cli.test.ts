// Joining a mesh as a new user does, with real `gridx start` processes on loopback and only the
// CLI: a token from any member, a join through a member that is not the coordinator, and every
// bad token refused with what was wrong, a non-zero exit, no stack trace and no admission.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatJoinToken, parseJoinToken } from '../../protocol/index.ts'
import { runGridx } from '../../scripts/lib/gridx-process.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

interface PeerJson {
  readonly peerId: string
}
interface MemberJson {
  readonly peerId: string
  readonly role: string
  readonly healthy: boolean
}
interface MeshJson {
  readonly members?: readonly MemberJson[]
}

async function token(cluster: MeshCluster, index: number, args: string[] = []): Promise<string> {
  const result = await cluster.cli(index, ['token', ...args])
  expect(result.code, result.stderr).toBe(0)
  return (JSON.parse(result.stdout) as { token: string }).token
}

async function admitted(cluster: MeshCluster): Promise<string[]> {
  const result = await cluster.cli(0, ['peers'])
  expect(result.code, result.stderr).toBe(0)
  return (JSON.parse(result.stdout) as PeerJson[]).map((peer) => peer.peerId).sort()
}

describe('joining a mesh through the CLI', () => {
  let cluster: MeshCluster
  let firstToken = ''

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 4 })
    await cluster.start(0, ['--voters', '3'])
    // Printed before any other member prints a token of its own.
    firstToken = await token(cluster, 0)
    await cluster.join(1, 0, 'voter')
  })

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should keep a member’s token good when another member prints its own', async () => {
    const secondToken = await token(cluster, 1)
    expect(parseJoinToken(secondToken).issuer).toBe(cluster.peerIdOf(1))
    const member = cluster.peers[0]?.joinAddress ?? ''
    await cluster.start(2, ['--join', member, '--token', firstToken])
    expect(await admitted(cluster)).toContain(cluster.peerIdOf(2))
    // The first member printing its token again does not undo the second one's either.
    expect(await token(cluster, 0)).toBe(firstToken)
    expect(await token(cluster, 1)).toBe(secondToken)
  })

  it('should admit and replicate to a joiner when it joins through a non-coordinator', async () => {
    const seen = await cluster.cli(0, ['mesh'])
    const coordinator = (JSON.parse(seen.stdout) as { coordinator: string }).coordinator
    const via = coordinator === cluster.peerIdOf(1) ? 0 : 1
    const member = cluster.peers[via]?.joinAddress ?? ''
    await cluster.start(3, ['--join', member, '--token', await token(cluster, via)])
    const joined = cluster.peerIdOf(3)
    const view = await cluster.waitFor<MeshJson>(0, ['mesh'], (info) =>
      (info.members ?? []).some((m) => m.peerId === joined && m.healthy),
    )
    expect(view.members?.find((m) => m.peerId === joined)?.role).toBe('learner')
  })
})

describe('a join refused at the door', () => {
  let cluster: MeshCluster
  let good = ''

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 1 })
    await cluster.start(0, ['--voters', '1'])
    good = await token(cluster, 0)
  })

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  /** `gridx start --join` with `text` as the token, as a user runs it, in a data dir of its own. */
  async function joinWith(name: string, text: string) {
    const before = await admitted(cluster)
    const dataDir = join(cluster.root, name)
    const result = await runGridx(
      [
        ...['start', '--data-dir', dataDir, '--no-executor', '--api-host', '127.0.0.1'],
        ...['--api-port', '0', '--p2p-host', '127.0.0.1', '--p2p-port', '0'],
        ...['--join', cluster.peers[0]?.joinAddress ?? '', '--token', text],
      ],
      { timeoutMs: 60_000 },
    )
    expect(await admitted(cluster)).toEqual(before)
    expect(result.code).not.toBe(0)
    // A refusal is an answer, not a crash: one line that says which, no stack trace.
    expect(result.stderr).not.toMatch(/^\s+at /m)
    return result.stderr
  }

  it('should say the secret is wrong when the token’s secret is not the mesh’s', async () => {
    const parsed = parseJoinToken(good)
    const secret = `${parsed.secret.slice(0, -4)}${parsed.secret.endsWith('aaaa') ? 'bbbb' : 'aaaa'}`
    expect(await joinWith('wrong', formatJoinToken({ ...parsed, secret }))).toMatch(
      /WRONG_SECRET.*not one of this mesh’s tokens/,
    )
  })

  it('should name the real peer when the token names another issuer', async () => {
    const parsed = parseJoinToken(good)
    // A well-formed PeerId of no peer here: the secret would be shown to an impostor.
    const issuer = '12D3KooWNA4gW8f3vdPEPB4K2TrQyjpwsjzC9dZfco2DNj4TSbPW'
    const stderr = await joinWith('forged', formatJoinToken({ ...parsed, issuer }))
    expect(stderr).toContain(`${cluster.peerIdOf(0)}, not the token's issuer ${issuer}`)
  })

  it('should say the role is wrong when a voter secret is sent as an executor token', async () => {
    const voter = parseJoinToken(await token(cluster, 0, ['--voter']))
    const stderr = await joinWith('role', formatJoinToken({ ...voter, role: 'executor' }))
    expect(stderr).toMatch(/WRONG_ROLE.*other role/)
  })

  it('should say it was rotated when the token was replaced with --rotate', async () => {
    const old = await token(cluster, 0)
    good = await token(cluster, 0, ['--rotate'])
    expect(good).not.toBe(old)
    expect(await joinWith('rotated', old)).toMatch(/ROTATED.*gridx token --rotate/)
  })

  it('should name both meshes when the token is for another mesh', async () => {
    const parsed = parseJoinToken(good)
    const stderr = await joinWith('other', formatJoinToken({ ...parsed, meshId: 'mesh-elsewhere' }))
    expect(stderr).toMatch(/OTHER_MESH.*mesh-elsewhere/)
  })
})
