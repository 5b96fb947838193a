// The mesh-cluster fixture on this machine's loopback: real `gridx start` processes on
// 127.0.0.2 and up, first as independent meshes, then joined into one through the CLI.
import { readFile, rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

interface MeshInfoJson {
  readonly meshId: string
  readonly peerId: string
}

async function meshInfo(cluster: MeshCluster, index: number): Promise<MeshInfoJson> {
  const result = await cluster.cli(index, ['mesh'])
  expect(result.code, result.stderr).toBe(0)
  const { meshId, peerId } = JSON.parse(result.stdout) as MeshInfoJson
  return { meshId, peerId }
}

describe('mesh cluster on loopback', () => {
  let cluster: MeshCluster

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 3 })
    await cluster.startIndependent()
  })

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should run each peer on its own loopback address when started independently', async () => {
    const infos = await Promise.all(cluster.peers.map((peer) => meshInfo(cluster, peer.index)))
    expect(cluster.peers.map((peer) => new URL(peer.daemon?.apiUrl ?? '').hostname)).toEqual([
      '127.0.0.2',
      '127.0.0.3',
      '127.0.0.4',
    ])
    expect(new Set(infos.map((info) => info.peerId)).size).toBe(3)
    expect(new Set(infos.map((info) => info.meshId)).size).toBe(3)
    expect(infos.map((info) => info.peerId)).toEqual(
      cluster.peers.map((peer) => peer.daemon?.peerId),
    )
  })

  it('should bring a peer back with its identity when it is killed with -9', async () => {
    const before = await meshInfo(cluster, 1)
    const daemon = cluster.peers[1]?.daemon
    await cluster.kill(1)
    expect(daemon?.child.signalCode).toBe('SIGKILL')
    expect(cluster.peers[1]?.daemon).toBeNull()
    const restarted = await cluster.start(1)
    expect(restarted.apiUrl).toBe(daemon?.apiUrl)
    const again = await cluster.waitFor<MeshInfoJson>(1, ['mesh'], (info) => {
      return info.peerId === before.peerId
    })
    expect(again.meshId).toBe(before.meshId)
    // The others never noticed.
    expect((await meshInfo(cluster, 0)).peerId).toBe(cluster.peers[0]?.daemon?.peerId)
    const log = await readFile(cluster.peers[1]?.logFile ?? '', 'utf8')
    expect(log.match(/^--- gridx start /gm)).toHaveLength(2)
    expect(log).toMatch(/^--- SIGKILL$/m)
    const daemonLog = await readFile(cluster.peers[1]?.daemonLogFile ?? '', 'utf8')
    const starts = daemonLog
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; peerId?: string })
      .filter((line) => line.msg === 'started' && line.peerId === before.peerId)
    // One `started` line from each run: the data dir's log outlives the killed process.
    expect(starts).toHaveLength(2)
  })

  it('should refuse --join when the data dir belongs to a mesh already', async () => {
    await cluster.stop(2)
    await expect(cluster.join(2, 0, 'executor')).rejects.toThrow(/belongs to a mesh already/)
    expect(cluster.peers[2]?.daemon).toBeNull()
  })
})

async function token(cluster: MeshCluster, index: number, args: string[]): Promise<string> {
  const result = await cluster.cli(index, ['token', ...args])
  expect(result.code, result.stderr).toBe(0)
  return (JSON.parse(result.stdout) as { token: string }).token
}

interface MeshMembersJson {
  readonly meshId: string
  readonly coordinator: string | null
  readonly members?: readonly { readonly peerId: string; readonly role: string }[]
}

describe('mesh cluster joined through the CLI', () => {
  let cluster: MeshCluster

  beforeAll(async () => {
    cluster = await MeshCluster.create({ peers: 4 })
    await cluster.startMesh(3)
  })

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  const voters = (info: MeshMembersJson) =>
    (info.members ?? []).filter((member) => member.role === 'voter').map((m) => m.peerId)

  it('should join every peer into one mesh when each joins with a token', async () => {
    const first = await cluster.waitFor<MeshMembersJson>(0, ['mesh'], (info) => {
      return voters(info).length === 3 && (info.members ?? []).length === 4
    })
    for (const peer of cluster.peers.slice(1)) {
      const info = await cluster.waitFor<MeshMembersJson>(peer.index, ['mesh'], (seen) => {
        return seen.coordinator !== null && voters(seen).length === 3
      })
      expect(info.meshId).toBe(first.meshId)
    }
  })

  it('should elect a new coordinator when the coordinator is killed with -9', async () => {
    const info = await cluster.waitFor<MeshMembersJson>(0, ['mesh'], (seen) => {
      return seen.coordinator !== null
    })
    const dead = cluster.peers.findIndex((peer) => peer.daemon?.peerId === info.coordinator)
    expect(dead).toBeGreaterThanOrEqual(0)
    const witness = cluster.peers.find((peer) => peer.index !== dead)?.index ?? 0
    // An acknowledged write on a follower: the rotation's hash is committed before it answers.
    const rotated = await token(cluster, witness, ['--rotate'])
    await cluster.kill(dead)
    const after = await cluster.waitFor<MeshMembersJson>(witness, ['mesh'], (seen) => {
      return seen.coordinator !== null && seen.coordinator !== info.coordinator
    })
    expect(after.meshId).toBe(info.meshId)
    // The new coordinator's log has it: the same token is printed, not a fresh rotation.
    expect(await token(cluster, witness, [])).toBe(rotated)
    // Back from its data dir with no flags, it rejoins as what it was.
    await cluster.start(dead)
    // It follows the coordinator the others follow: `after`'s, or a later one, since on a
    // loaded machine a late heartbeat may bring another election meanwhile.
    const deadline = Date.now() + 60_000
    for (;;) {
      const [back, other] = await Promise.all([
        cluster.waitFor<MeshMembersJson>(dead, ['mesh'], (seen) => seen.coordinator !== null),
        cluster.waitFor<MeshMembersJson>(witness, ['mesh'], (seen) => seen.coordinator !== null),
      ])
      if (back.coordinator === other.coordinator && back.meshId === after.meshId) break
      expect(Date.now()).toBeLessThan(deadline)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  })
})
