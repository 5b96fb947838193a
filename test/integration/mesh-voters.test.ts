// The voters of a mesh of real `gridx start` processes, seen only through the CLI: voter-token
// learners promoted up to the target, a dead voter removed past its threshold and replaced,
// and a write without a quorum failing, after a bounded wait, with what makes its retry safe.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUTOPILOT_FAILED_AFTER_MS, PROPOSAL_TIMEOUT_MS_DEFAULT } from '../../protocol/index.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

interface MeshJson {
  readonly coordinator: string | null
  readonly members?: readonly {
    readonly peerId: string
    readonly role: string
    readonly healthy: boolean
  }[]
}
interface SubmitJson {
  readonly job: { readonly id: string }
  readonly created: boolean
}

const voters = (view: MeshJson): string[] =>
  (view.members ?? [])
    .filter((member) => member.role === 'voter')
    .map((member) => member.peerId)
    .sort()

describe('the voters of a mesh', () => {
  let cluster: MeshCluster
  const ids = (indexes: number[]) => indexes.map((index) => cluster.peerIdOf(index)).sort()

  beforeAll(async () => {
    // Noop jobs: a submission must find an executor that offers its runtime, and one that
    // runs nothing keeps the loaded machine's CPU for the voters.
    cluster = await MeshCluster.create({
      peers: 4,
      executors: true,
      extraArgs: ['--noop-executor'],
    })
    await cluster.start(0, ['--voters', '3'])
    for (const index of [1, 2, 3]) await cluster.join(index, 0, 'voter')
  })

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should promote voter-token learners up to the target when they have stabilised', async () => {
    const view = await cluster.waitFor<MeshJson>(0, ['mesh'], (seen) => voters(seen).length === 3)
    expect(view.members).toHaveLength(4)
    expect(voters(view)).toEqual(expect.arrayContaining([cluster.peerIdOf(0)]))
  }, 120_000)

  it('should replace a voter unreachable past the threshold and keep a majority', async () => {
    const before = voters(await cluster.waitFor<MeshJson>(0, ['mesh'], () => true))
    const learner = [0, 1, 2, 3].find((index) => !before.includes(cluster.peerIdOf(index) ?? ''))
    const dead = [1, 2, 3].find((index) => index !== learner) as number
    await cluster.kill(dead)
    const after = await cluster.waitFor<MeshJson>(
      0,
      ['mesh'],
      (seen) => !voters(seen).includes(cluster.peerIdOf(dead) ?? '') && voters(seen).length === 3,
      AUTOPILOT_FAILED_AFTER_MS * 4,
    )
    expect(voters(after)).toEqual(ids([0, 1, 2, 3].filter((index) => index !== dead)))
    // It is out of the Raft configuration, not out of the mesh: still admitted, and a learner
    // again once it is back.
    const peers = JSON.parse((await cluster.cli(0, ['peers'])).stdout) as { peerId: string }[]
    expect(peers.map((peer) => peer.peerId)).toContain(cluster.peerIdOf(dead))
    await cluster.start(dead)
    const back = await cluster.waitFor<MeshJson>(0, ['mesh'], (seen) =>
      (seen.members ?? []).some((m) => m.peerId === cluster.peerIdOf(dead) && m.healthy),
    )
    expect(voters(back)).toEqual(voters(after))
  }, 240_000)

  it('should fail a write without a quorum, then make one job when it is retried', async () => {
    const view = await cluster.waitFor<MeshJson>(0, ['mesh'], (seen) => voters(seen).length === 3)
    const others = [1, 2, 3].filter((index) => voters(view).includes(cluster.peerIdOf(index) ?? ''))
    for (const index of others) await cluster.kill(index)
    const startedMs = Date.now()
    const failed = await cluster.cli(0, ['submit', '--runtime', 'noop', '-c', 'noop'])
    // Bounded: the proposal's own timeout, with the CLI's start and a loaded machine's slack.
    expect(Date.now() - startedMs).toBeLessThan(PROPOSAL_TIMEOUT_MS_DEFAULT * 4)
    expect(failed.code).not.toBe(0)
    const hint = /retry.*--idempotency-id (\S+)/s.exec(failed.stderr)
    expect(hint, failed.stderr).not.toBeNull()
    for (const index of others) await cluster.start(index)
    const retry = ['submit', '--runtime', 'noop', '-c', 'noop', '--idempotency-id', hint?.[1] ?? '']
    const first = await cluster.waitFor<SubmitJson>(0, retry, () => true)
    const second = JSON.parse((await cluster.cli(0, retry)).stdout) as SubmitJson
    expect(second).toMatchObject({ created: false, job: { id: first.job.id } })
    const jobs = JSON.parse((await cluster.cli(0, ['jobs'])).stdout) as unknown[]
    expect(jobs).toHaveLength(1)
  }, 240_000)
})
