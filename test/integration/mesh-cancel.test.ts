// Cancel across a mesh of real `gridx start` processes on loopback: a job submitted and
// cancelled on a peer with no executor stops in the container of the peer that runs it.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { EXECUTOR_LEASE_MS } from '../../protocol/index.ts'
import { containersOf, describeWithDocker } from '../fixtures/docker.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

/** Pulls nothing (the image is there), but a container's start on a busy machine is slow. */
const RUNNING_TIMEOUT_MS = 30_000
/** The cancel's round trip to the executor and Docker's kill and removal. */
const GONE_TIMEOUT_MS = 20_000

interface JobJson {
  readonly id: string
  readonly state: string
  readonly executor?: string | null
}

describeWithDocker(
  'cancel in a mesh on loopback',
  (docker) => {
    let cluster: MeshCluster

    beforeAll(async () => {
      // Peer 0 founds the mesh and coordinates it, peer 2 joins: neither runs jobs; peer 1 does.
      cluster = await MeshCluster.create({ peers: 3, executors: (index) => index === 1 })
      await cluster.startMesh(1)
    })

    afterAll(async () => {
      await cluster.stopAll()
      await rm(cluster.root, { recursive: true, force: true })
    })

    it('should stop the container on the executor when the job is cancelled elsewhere', async () => {
      const runner = cluster.peers[1]?.daemon?.peerId ?? ''
      const code = 'import time\nprint("up", flush=True)\ntime.sleep(120)'
      const submitted = await cluster.cli(2, ['submit', '-c', code, '--timeout', '300'])
      expect(submitted.code, submitted.stderr).toBe(0)
      const { id } = (JSON.parse(submitted.stdout) as { job: JobJson }).job
      const running = await cluster.waitFor<JobJson>(
        2,
        ['status', id],
        (job) => job.state === 'running',
        RUNNING_TIMEOUT_MS,
      )
      expect(running.executor).toBe(runner)
      expect(await containersOf(docker, runner)).toHaveLength(1)
      const cancelled = await cluster.cli(2, ['cancel', id])
      expect(cancelled.code, cancelled.stderr).toBe(0)
      const deadline = Date.now() + GONE_TIMEOUT_MS
      while ((await containersOf(docker, runner)).length > 0) {
        expect(Date.now()).toBeLessThan(deadline)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      const final = await cluster.waitFor<JobJson>(2, ['status', id], (job) => {
        return job.state === 'cancelled'
      })
      expect(final.executor).toBe(runner)
    }, 120_000)

    it('should requeue a running job when its executor is killed with -9', async () => {
      const runner = cluster.peers[1]?.daemon?.peerId ?? ''
      const code = 'import time\ntime.sleep(120)'
      const submitted = await cluster.cli(2, ['submit', '-c', code, '--timeout', '300'])
      expect(submitted.code, submitted.stderr).toBe(0)
      const { id } = (JSON.parse(submitted.stdout) as { job: JobJson }).job
      await cluster.waitFor<JobJson>(2, ['status', id], (job) => job.state === 'running')
      const killedAt = Date.now()
      await cluster.kill(1)
      // The coordinator hears nothing for a lease, then marks the job lost: it is queued again.
      const queued = await cluster.waitFor<JobJson>(
        2,
        ['status', id],
        (job) => job.state === 'queued',
        EXECUTOR_LEASE_MS + GONE_TIMEOUT_MS,
      )
      console.info(`kill -9 of the executor to its job requeued: ${Date.now() - killedAt} ms`)
      expect(queued.executor ?? null).toBeNull()
      // Back from its data dir, the executor takes the job again.
      await cluster.start(1)
      const again = await cluster.waitFor<JobJson>(
        2,
        ['status', id],
        (job) => job.state === 'running',
        RUNNING_TIMEOUT_MS,
      )
      expect(again.executor).toBe(runner)
      expect((await cluster.cli(2, ['cancel', id])).code).toBe(0)
    }, 180_000)
  },
  ['python'],
)
