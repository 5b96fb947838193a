// /metrics of a mesh peer that is not the coordinator, read by Prometheus's own linter
// (`promtool check metrics`), on real `gridx start` processes on loopback: A founds the mesh
// and coordinates it without an executor, B joins as the executor and is the peer the jobs are
// submitted to. B has run, failed, cancelled and refused jobs; both scrapes pass.
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { JobView } from '../../protocol/index.ts'
import { describeWithDocker } from '../fixtures/docker.ts'
import { promtoolCheck } from '../fixtures/promtool.ts'
import { MeshCluster } from '../../scripts/lib/mesh-cluster.ts'

/** A container's start on a loaded 2-core machine is slow; the image is there already. */
const JOB_END_TIMEOUT_MS = 90_000

describeWithDocker(
  'metrics of a mesh peer that is not the coordinator',
  () => {
    let cluster: MeshCluster
    const scrapes: string[] = []
    let counter = 0
    const idem = () => `mesh-metrics-${process.pid}-${++counter}`

    beforeAll(async () => {
      cluster = await MeshCluster.create({ peers: 2, executors: (index) => index === 1 })
      await cluster.start(0, ['--voters', '1'])
      await cluster.join(1, 0, 'executor')
      const submit = (code: string) =>
        cluster.rpc(1, 'job.submit', { idempotencyId: idem(), spec: { runtime: 'bash', code } })
      const ran = await submit('echo ok')
      const failed = await submit('exit 3')
      const cancelled = await submit('sleep 60')
      await cluster.waitFor<JobView>(
        1,
        ['status', cancelled.job.id],
        (job) => job.state === 'running',
        JOB_END_TIMEOUT_MS,
      )
      await cluster.rpc(1, 'job.cancel', { id: cancelled.job.id, idempotencyId: idem() })
      for (const { job } of [ran, failed, cancelled]) {
        await cluster.waitFor<JobView>(
          1,
          ['status', job.id],
          (view) => ['succeeded', 'failed', 'cancelled'].includes(view.state),
          JOB_END_TIMEOUT_MS,
        )
      }
      const tooDear = { runtime: 'bash' as const, code: 'true', timeoutS: 3600, cpus: 2 }
      await expect(
        cluster.rpc(1, 'job.submit', { idempotencyId: idem(), spec: tooDear }),
      ).rejects.toMatchObject({ name: 'INSUFFICIENT_FUNDS' })
      for (const peer of cluster.peers) {
        const url = `${peer.daemon?.apiUrl ?? ''}/metrics`
        scrapes.push(await (await fetch(url)).text())
      }
    }, 300_000)

    afterAll(async () => {
      await cluster?.stopAll()
      if (cluster !== undefined) await rm(cluster.root, { recursive: true, force: true })
    })

    it('should pass promtool check metrics on the peer that does not coordinate', async () => {
      const info = await cluster.rpc(1, 'mesh.info', {})
      expect(info.coordinator).toBe(cluster.peerIdOf(0))
      for (const [index, text] of scrapes.entries()) {
        const verdict = await promtoolCheck(text)
        expect(verdict.output, `peer ${index}`).toBe('')
        expect(verdict.code, `peer ${index}`).toBe(0)
      }
    })

    it('should count the jobs and requests where they happened when B is not the coordinator', () => {
      const [a = '', b = ''] = scrapes
      // B served the API calls and ran the containers; A only coordinated.
      expect(b).toMatch(/^gridx_api_requests_total\{method="job.submit",outcome="ok"\} 3$/m)
      expect(b).toMatch(/^gridx_api_requests_total\{method="job.submit",outcome="error"\} 1$/m)
      expect(a).toMatch(/^gridx_api_requests_total\{method="job.submit",outcome="ok"\} 0$/m)
      expect(b).toMatch(/^gridx_container_starts_total 3$/m)
      expect(a).toMatch(/^gridx_container_starts_total 0$/m)
      // Both replicas applied the same log: the same jobs, settled the same way.
      for (const text of [a, b]) {
        expect(text).toMatch(/^gridx_jobs\{state="succeeded"\} 1$/m)
        expect(text).toMatch(/^gridx_jobs\{state="failed"\} 1$/m)
        expect(text).toMatch(/^gridx_jobs\{state="cancelled"\} 1$/m)
        expect(text).toMatch(/^gridx_settlements_total\{outcome="charged"\} 3$/m)
        expect(text).toMatch(/^gridx_job_run_seconds_count\{runtime="bash"\} 3$/m)
        expect(text).toMatch(/^process_cpu_seconds_total \d/m)
      }
    })
  },
  ['bash'],
)
