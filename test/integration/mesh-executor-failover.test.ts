// Executors that go away and come back, on real `gridx start` processes on loopback: peer 0
// coordinates and runs no jobs, peers 1 and 2 are executors sharing this machine's engine.
// What the state decided while an executor was away reaches its containers when it is back.
import { rm } from 'node:fs/promises'
import type Docker from 'dockerode'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { EXECUTOR_LEASE_MS } from '../../protocol/index.ts'
import { containersOf, describeWithDocker } from '../fixtures/docker.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

/** A container's start on a busy, shared machine is slow. */
const RUNNING_TIMEOUT_MS = 30_000
/** A reconnect, a kill and a removal by the engine, on a busy machine. */
const GONE_TIMEOUT_MS = 20_000
/** The job outlives every test by far: only a kill ends its container. */
const LONG_JOB = ['submit', '--runtime', 'bash', '-c', 'sleep 290', '--timeout', '300']

interface JobJson {
  readonly id: string
  readonly state: string
  readonly executor?: string | null
}

/** Waits until `docker` shows no container of `executorId`; returns how long that took. */
async function gone(docker: Docker, executorId: string): Promise<number> {
  const began = Date.now()
  while ((await containersOf(docker, executorId)).length > 0) {
    expect(Date.now() - began).toBeLessThan(GONE_TIMEOUT_MS)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return Date.now() - began
}

describeWithDocker(
  'executors across failures in a mesh on loopback',
  (docker) => {
    let cluster: MeshCluster
    const peerId = (index: number) => cluster.peers[index]?.daemon?.peerId ?? ''
    const indexOf = (peer: string | null | undefined) => (peer === peerId(1) ? 1 : 2)

    beforeAll(async () => {
      cluster = await MeshCluster.create({ peers: 3, executors: (index) => index > 0 })
      await cluster.startMesh(1)
    })

    afterAll(async () => {
      for (const peer of cluster.peers) if (peer.daemon !== null) cluster.resume(peer.index)
      await cluster.stopAll()
      await rm(cluster.root, { recursive: true, force: true })
    })

    async function runningJob(): Promise<{ id: string; on: 1 | 2 }> {
      const submitted = await cluster.cli(0, LONG_JOB)
      expect(submitted.code, submitted.stderr).toBe(0)
      const { id } = (JSON.parse(submitted.stdout) as { job: JobJson }).job
      const running = await cluster.waitFor<JobJson>(
        0,
        ['status', id],
        (job) => job.state === 'running',
        RUNNING_TIMEOUT_MS,
      )
      const on = indexOf(running.executor)
      expect(await containersOf(docker, peerId(on))).toHaveLength(1)
      return { id, on }
    }

    it('should stop the container on its return when the job was cancelled while it was away', async () => {
      const { id, on } = await runningJob()
      const away = peerId(on)
      cluster.pause(on)
      // No heartbeat for a lease: the job is lost and placed again, on the other executor.
      await cluster.waitFor<JobJson>(
        0,
        ['status', id],
        (job) => job.executor !== away,
        EXECUTOR_LEASE_MS + GONE_TIMEOUT_MS,
      )
      const cancelled = await cluster.cli(0, ['cancel', id])
      expect(cancelled.code, cancelled.stderr).toBe(0)
      await cluster.waitFor<JobJson>(0, ['status', id], (job) => job.state === 'cancelled')
      // Its daemon frozen, nobody stopped the container: it still does the job's work.
      expect(await containersOf(docker, away)).toHaveLength(1)
      cluster.resume(on)
      const tookMs = await gone(docker, away)
      console.info(
        `resume of a paused executor to its cancelled job's container gone: ${tookMs} ms`,
      )
      await gone(docker, peerId(3 - on))
    }, 180_000)

    it('should remove its old container when restarted after kill -9, and no other', async () => {
      const { id, on } = await runningJob()
      const killed = peerId(on)
      const other = peerId(3 - on)
      const killedAt = Date.now()
      await cluster.kill(on)
      const rerun = await cluster.waitFor<JobJson>(
        0,
        ['status', id],
        (job) => job.state === 'running' && job.executor === other,
        EXECUTOR_LEASE_MS + RUNNING_TIMEOUT_MS,
      )
      expect(rerun.executor).toBe(other)
      const rerunAt = Date.now()
      // Two containers do the job's work now: the dead daemon's and the rerun.
      expect(await containersOf(docker, killed)).toHaveLength(1)
      expect(await containersOf(docker, other)).toHaveLength(1)
      await cluster.start(on)
      const sweptMs = await gone(docker, killed)
      console.info(
        `kill -9 to rerun running: ${rerunAt - killedAt} ms; ` +
          `two containers for ${Date.now() - rerunAt} ms, until the restart swept its own ` +
          `(${sweptMs} ms after it was up)`,
      )
      // The neighbour's container, on the same engine, is not the restarted daemon's to take.
      expect(await containersOf(docker, other)).toHaveLength(1)
      const job = await cluster.waitFor<JobJson>(0, ['status', id], () => true)
      expect(job).toMatchObject({ state: 'running', executor: other })
      expect((await cluster.cli(0, ['cancel', id])).code).toBe(0)
      await gone(docker, other)
    }, 180_000)
  },
  ['bash'],
)
