// Jobs in a mesh of real `gridx start` processes on loopback: submitted on a peer that runs no
// executor, they run on a peer that does (the noop runtime, so that no engine is needed).
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

/** A noop job is done at once where it runs; the rest is the mesh's round trips. */
const JOB_DONE_TIMEOUT_MS = 20_000

interface JobJson {
  readonly id: string
  readonly state: string
  readonly executor?: string | null
  readonly priceMc?: number | null
  readonly executorPaidMc?: number | null
}

interface BalanceJson {
  readonly account: string
  readonly balanceMc: number
}

describe('jobs in a mesh on loopback', () => {
  let cluster: MeshCluster

  beforeAll(async () => {
    // Peer 0 founds the mesh (its lone voter, so its coordinator) and peer 3 joins, both with
    // --no-executor; peers 1 and 2 run noop jobs.
    const runs = (index: number) => index === 1 || index === 2
    cluster = await MeshCluster.create({
      peers: 4,
      executors: runs,
      peerArgs: (index) => (runs(index) ? ['--noop-executor'] : []),
    })
    await cluster.startMesh(1)
  })

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  const peerId = (index: number) => cluster.peers[index]?.daemon?.peerId

  it.each([
    ['the coordinator', 0],
    ['a follower', 3],
  ])(
    'should run a job on another peer when %s has --no-executor',
    async (_, index) => {
      await cluster.waitFor<{ coordinator: string | null }>(index, ['mesh'], (info) => {
        return info.coordinator === peerId(0)
      })
      const submitted = await cluster.cli(index, ['submit', '-c', 'x', '--runtime', 'noop'])
      expect(submitted.code, submitted.stderr).toBe(0)
      const { id } = (JSON.parse(submitted.stdout) as { job: JobJson }).job
      const done = await cluster.waitFor<JobJson>(
        index,
        ['status', id],
        (job) => job.state === 'succeeded',
        JOB_DONE_TIMEOUT_MS,
      )
      expect([peerId(1), peerId(2)]).toContain(done.executor)
    },
    90_000,
  )

  it('should follow a job to its end on a follower when another peer runs it', async () => {
    // Live output reaches only the coordinator; a follower learns the end from the log.
    const followed = await cluster.cli(3, ['submit', '-c', 'x', '--runtime', 'noop', '--follow'])
    expect(followed.code, followed.stderr).toBe(0)
    expect((JSON.parse(followed.stdout) as JobJson).state).toBe('succeeded')
  }, 60_000)

  it('should pay the owner of the peer that ran the job when it settles', async () => {
    const balance = async (index: number) => {
      const result = await cluster.cli(index, ['balance'])
      expect(result.code, result.stderr).toBe(0)
      return (JSON.parse(result.stdout) as BalanceJson).balanceMc
    }
    const before = await Promise.all([0, 1, 2].map(balance))
    const submitted = await cluster.cli(0, ['submit', '-c', 'x', '--runtime', 'noop'])
    expect(submitted.code, submitted.stderr).toBe(0)
    const { id } = (JSON.parse(submitted.stdout) as { job: JobJson }).job
    const done = await cluster.waitFor<JobJson>(
      0,
      ['status', id],
      (job) => job.state === 'succeeded',
      JOB_DONE_TIMEOUT_MS,
    )
    const ran = done.executor === peerId(1) ? 1 : 2
    const idle = 3 - ran
    const paid = done.executorPaidMc ?? NaN
    expect(paid).toBeGreaterThan(0)
    // Each peer reads its own balance, through ReadIndex: the settlement is committed there.
    expect(await balance(0)).toBe((before[0] ?? NaN) - (done.priceMc ?? NaN))
    expect(await balance(ran)).toBe((before[ran] ?? NaN) + paid)
    expect(await balance(idle)).toBe(before[idle])
  }, 90_000)
})
