// Jobs in a mesh of real `gridx start` processes on loopback: submitted on a peer that runs no
// executor, they run on a peer that does (the noop runtime, so that no engine is needed).
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MeshCluster } from '../fixtures/mesh-cluster.ts'

/** A noop job is done at once where it runs; the rest is the mesh's round trips. */
const JOB_DONE_TIMEOUT_MS = 20_000

interface JobJson {
  readonly id: string
  readonly state: string
  readonly executor?: string | null
}

describe('jobs in a mesh on loopback', () => {
  let cluster: MeshCluster

  beforeAll(async () => {
    // Peer 0 founds the mesh and runs noop jobs; peer 1 joins with --no-executor.
    cluster = await MeshCluster.create({
      peers: 2,
      executors: (index) => index === 0,
      peerArgs: (index) => (index === 0 ? ['--noop-executor'] : []),
    })
    await cluster.startMesh(1)
  })

  afterAll(async () => {
    await cluster.stopAll()
    await rm(cluster.root, { recursive: true, force: true })
  })

  it('should accept a job on a peer with --no-executor when another peer can run it', async () => {
    await cluster.waitFor<{ coordinator: string | null }>(1, ['mesh'], (info) => {
      return info.coordinator === cluster.peers[0]?.daemon?.peerId
    })
    const submitted = await cluster.cli(1, ['submit', '-c', 'x', '--runtime', 'noop'])
    expect(submitted.code, submitted.stderr).toBe(0)
    const { id } = (JSON.parse(submitted.stdout) as { job: JobJson }).job
    const done = await cluster.waitFor<JobJson>(
      1,
      ['status', id],
      (job) => job.state === 'succeeded',
      JOB_DONE_TIMEOUT_MS,
    )
    expect(done.executor).toBe(cluster.peers[0]?.daemon?.peerId)
  }, 90_000)
})
