// /metrics of a real daemon, read by Prometheus's own linter (`promtool check metrics`, from
// Debian's prometheus package that scripts/setup.sh installs) after the daemon ran, failed,
// cancelled and refused jobs on the real Docker engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ERROR_CODES, JOB_STATES, paramsSchemas, RUNTIMES } from '../../protocol/index.ts'
import type { JobView } from '../../protocol/index.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import { promtoolCheck } from '../fixtures/promtool.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'

let counter = 0
const idem = () => `metrics-${process.pid}-${++counter}`
const METHODS = Object.keys(paramsSchemas)

/** Resolves once the job is running, so that cancelling it stops a job that ran. */
async function running(node: TestDaemon, id: string): Promise<void> {
  const client = await node.socket()
  const { promise, resolve, reject } = Promise.withResolvers<void>()
  const timer = setTimeout(() => reject(new Error(`job ${id} did not start`)), 60_000)
  const seen = (job: JobView) => {
    if (job.state === 'running') resolve()
  }
  await client.subscribe('jobs', { id }, (event) => seen(event.job))
  seen(await node.call('job.get', { id }))
  await promise.finally(() => {
    clearTimeout(timer)
    client.close()
  })
}

describe.skipIf(!hasEngine)('daemon metrics after jobs of every outcome', () => {
  let node: TestDaemon
  let text: string

  beforeAll(async () => {
    node = await startTestDaemon()
    const submit = (code: string) =>
      node.call('job.submit', { idempotencyId: idem(), spec: { runtime: 'bash', code } })
    const succeeded = await submit('echo ok')
    const failed = await submit('exit 3')
    const cancelled = await submit('sleep 30')
    await running(node, cancelled.job.id)
    await node.call('job.cancel', { id: cancelled.job.id, idempotencyId: idem() })
    const ends = await Promise.all(
      [succeeded, failed, cancelled].map(({ job }) => node.waitForJob(job.id)),
    )
    expect(ends.map((job) => job.state)).toEqual(['succeeded', 'failed', 'cancelled'])
    // Refused: more than the account can pay for, and params that fail validation.
    const tooDear = { runtime: 'bash' as const, code: 'true', timeoutS: 3600, cpus: 2 }
    const refused = node.call('job.submit', { idempotencyId: idem(), spec: tooDear })
    await expect(refused).rejects.toMatchObject({ name: 'INSUFFICIENT_FUNDS' })
    const spec = { runtime: 'bash' as const, code: 'true', memoryMb: 1 }
    await expect(node.call('job.submit', { idempotencyId: idem(), spec })).rejects.toMatchObject({
      name: 'INVALID_PARAMS',
    })
    text = await (await fetch(`${node.daemon.address.url}/metrics`)).text()
  }, 120_000)
  afterAll(async () => {
    await node?.destroy()
  })

  it('should pass promtool check metrics after jobs of every outcome', async () => {
    const checked = await promtoolCheck(text)
    expect(checked.output).toBe('')
    expect(checked.code).toBe(0)
  })

  it('should expose the default process metrics under their standard names', () => {
    expect(text).toMatch(/^process_cpu_seconds_total \d/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d/m)
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m)
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m)
    expect(text).not.toContain('gridx_process_')
  })

  it('should start every known label set at 0 when nothing of its kind happened', () => {
    for (const code of Object.keys(ERROR_CODES)) {
      expect(text).toMatch(new RegExp(`^gridx_api_errors_total\\{code="${code}"\\} \\d`, 'm'))
    }
    expect(text).toMatch(/^gridx_api_errors_total\{code="QUEUE_FULL"\} 0$/m)
    for (const method of METHODS) {
      expect(text).toContain(`gridx_api_requests_total{method="${method}",outcome="ok"}`)
      expect(text).toContain(`gridx_api_requests_total{method="${method}",outcome="error"}`)
    }
    expect(text).toMatch(/^gridx_api_requests_total\{method="mesh.token",outcome="ok"\} 0$/m)
    expect(text).toMatch(/^gridx_api_rate_limited_total\{scope="token"\} 0$/m)
    expect(text).toMatch(/^gridx_api_rate_limited_total\{scope="address"\} 0$/m)
    for (const state of JOB_STATES) expect(text).toContain(`gridx_jobs{state="${state}"}`)
    expect(text).toMatch(/^gridx_settlements_total\{outcome="voided"\} \d/m)
    expect(text).toMatch(/^gridx_settled_credits_total\{to="fees"\} \d/m)
    for (const runtime of RUNTIMES) {
      expect(text).toContain(`gridx_job_queue_wait_seconds_count{runtime="${runtime}"}`)
      expect(text).toContain(`gridx_job_run_seconds_count{runtime="${runtime}"}`)
    }
  })

  it('should count a request that fails validation under its method', () => {
    expect(text).toMatch(/^gridx_api_requests_total\{method="job.submit",outcome="error"\} 2$/m)
    expect(text).toMatch(/^gridx_api_errors_total\{code="INVALID_PARAMS"\} 1$/m)
    expect(text).not.toContain('method="unknown",outcome="error"} 1')
  })

  it('should measure request latency by method and job wait and run time by runtime', () => {
    expect(text).toMatch(/^gridx_api_request_duration_seconds_count\{method="job.submit"\} [5-9]/m)
    expect(text).toMatch(/^gridx_api_request_duration_seconds_bucket\{le="\+Inf",method="job.get"/m)
    // Three jobs started and ended, the cancelled one among them.
    expect(text).toMatch(/^gridx_job_queue_wait_seconds_count\{runtime="bash"\} 3$/m)
    expect(text).toMatch(/^gridx_job_run_seconds_count\{runtime="bash"\} 3$/m)
    expect(text).toMatch(/^gridx_job_run_seconds_count\{runtime="python"\} 0$/m)
  })

  it('should give credits in metric names in credits, with fractions', () => {
    expect(text).not.toContain('millicredits')
    expect(text).toMatch(/^gridx_escrow_credits 0$/m)
    const fees = /^gridx_settled_credits_total\{to="fees"\} ([\d.]+)$/m.exec(text)?.[1]
    // Three charged jobs of at least 1 credit each, 20 % of it to fees.
    expect(Number(fees)).toBeGreaterThanOrEqual(0.6)
    expect(Number(fees)).toBeLessThan(100)
  })
})
