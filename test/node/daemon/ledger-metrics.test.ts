// The ledger's Prometheus metrics over a real one-voter ledger (LevelDB in a temp dir): every
// job that ends is counted once, also the jobs a command ends as a side effect (the children
// of a sharded job that ends).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualTicker, openOneVoterLedger } from '../../../ledger/index.ts'
import type { Command, RaftDriver } from '../../../ledger/index.ts'
import {
  emptyJobResult,
  ESCROW_GRACE_MS,
  JOB_TIMEOUT_S_MAX,
  jobSpecSchema,
} from '../../../protocol/index.ts'
import { LedgerMetrics } from '../../../node/daemon/ledger-metrics.ts'

const SUBMITTER = 'alice'
const EXECUTOR = 'peer-x'
const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
const opened: { ledger: RaftDriver; metrics: LedgerMetrics; dir: string }[] = []

afterEach(async () => {
  for (const { ledger, metrics, dir } of opened.splice(0)) {
    metrics.stop()
    await ledger.stop()
    await rm(dir, { recursive: true, force: true })
  }
})

async function setup(clock = { now: () => Date.now() }) {
  const dir = await mkdtemp(join(tmpdir(), 'gridx-ledger-metrics-'))
  const { driver: ledger } = await openOneVoterLedger({
    location: join(dir, 'raft'),
    legacyLocation: null,
    id: 'peer-a',
    clock,
    ticker: new ManualTicker(),
  })
  const registry = new Registry()
  const metrics = new LedgerMetrics(registry, ledger)
  opened.push({ ledger, metrics, dir })
  const run = async (command: Command) => {
    const result = await ledger.propose(command)
    expect(result, command.type).toMatchObject({ ok: true })
    return result
  }
  await run({ type: 'account.open', account: SUBMITTER })
  await run({ type: 'account.open', account: 'owner-x' })
  await run({ type: 'executor.register', peer: EXECUTOR, owner: 'owner-x' })
  return { ledger, registry, run }
}

/** The value of one labelled series of a metric, 0 when it has none. */
async function value(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = await registry.getSingleMetric(name)?.get()
  const series = metric?.values.find((entry) => {
    return Object.entries(labels).every(([key, label]) => entry.labels[key] === label)
  })
  return series?.value ?? 0
}

async function settlements(registry: Registry) {
  return {
    charged: await value(registry, 'gridx_settlements_total', { outcome: 'charged' }),
    voided: await value(registry, 'gridx_settlements_total', { outcome: 'voided' }),
  }
}

const spec = jobSpecSchema.parse({ runtime: 'bash', code: 'sleep 60', cpus: 0.1, timeoutS: 60 })

async function submitParent(run: (command: Command) => Promise<unknown>, shards: number) {
  await run({
    type: 'parent.submit',
    parentId: 'jparent1',
    submitter: SUBMITTER,
    idempotencyId: 'sharded-1',
    spec,
    shards: Array.from({ length: shards }, () => [{ name: 'shard', cid: CID, size: 1 }]),
    reduceCode: null,
  })
}

/** Assigns and starts the first run of shard `index`. */
async function startShard(
  ledger: RaftDriver,
  run: (command: Command) => Promise<unknown>,
  index = 0,
) {
  const jobId = ledger.localRead().parents.get('jparent1')?.shards[index]?.jobs[0] as string
  await run({ type: 'job.assign', jobId, executor: EXECUTOR })
  const fence = ledger.localRead().jobs.get(jobId)?.fence as number
  await run({ type: 'job.start', jobId, fence })
  return jobId
}

describe('LedgerMetrics', () => {
  it('should count every child a sharded job cancels when the parent is cancelled', async () => {
    const { ledger, registry, run } = await setup()
    await submitParent(run, 3)
    await startShard(ledger, run)
    await run({ type: 'parent.cancel', parentId: 'jparent1', by: SUBMITTER })
    // The running shard pays for the time it ran; the two queued ones are voided.
    expect(await settlements(registry)).toEqual({ charged: 1, voided: 2 })
    expect(await registry.metrics()).toMatch(/^gridx_job_run_seconds_count\{runtime="bash"\} 1$/m)
    const executor = await value(registry, 'gridx_settled_credits_total', { to: 'executor' })
    expect(executor).toBeGreaterThan(0)
  })

  it('should count the siblings a cancelled shard ends when its parent ends with it', async () => {
    const { ledger, registry, run } = await setup()
    await submitParent(run, 2)
    const first = await startShard(ledger, run)
    await run({ type: 'job.cancel', jobId: first, by: SUBMITTER })
    expect(ledger.localRead().parents.get('jparent1')?.state).toBe('cancelled')
    expect(await settlements(registry)).toEqual({ charged: 1, voided: 1 })
  })

  it('should not count a cancel again when its proposal is replayed', async () => {
    const { ledger, registry, run } = await setup()
    const submit = { type: 'job.submit', jobId: 'jplain1', submitter: SUBMITTER, spec } as const
    await run({ ...submit, idempotencyId: 'p-1' })
    const cancel = { type: 'job.cancel', jobId: 'jplain1', by: SUBMITTER } as const
    const proposal = ledger.nextProposal()
    await ledger.propose(cancel, { proposal })
    // A retry of the same proposal (a lost answer) is answered from the first time.
    expect(await ledger.propose(cancel, { proposal })).toMatchObject({ replayed: true })
    expect(await settlements(registry)).toEqual({ charged: 0, voided: 1 })
  })

  it('should count a job that ends by its own command once', async () => {
    const { registry, run } = await setup()
    await run({
      type: 'job.submit',
      jobId: 'jplain1',
      submitter: SUBMITTER,
      idempotencyId: 'p-1',
      spec,
    })
    await run({ type: 'job.cancel', jobId: 'jplain1', by: SUBMITTER })
    await run({ type: 'job.cancel', jobId: 'jplain1', by: SUBMITTER })
    expect(await settlements(registry)).toEqual({ charged: 0, voided: 1 })
  })

  it('should put the longest wait and run a job can have in a bucket below +Inf', async () => {
    let nowMs = Date.now()
    const { ledger, registry, run } = await setup({ now: () => nowMs })
    const long = jobSpecSchema.parse({ ...spec, memoryMb: 16, timeoutS: JOB_TIMEOUT_S_MAX })
    const submit = { type: 'job.submit', submitter: SUBMITTER, spec: long } as const
    await run({ ...submit, jobId: 'jlong1', idempotencyId: 'l-1' })
    await run({ type: 'job.assign', jobId: 'jlong1', executor: EXECUTOR })
    // The longest a job waits: until its escrow may expire, a day past its timeout.
    nowMs += JOB_TIMEOUT_S_MAX * 1000 + ESCROW_GRACE_MS
    const fence = ledger.localRead().jobs.get('jlong1')?.fence as number
    await run({ type: 'job.start', jobId: 'jlong1', fence })
    // The longest run: the timeout, and the moments the kill takes past it.
    nowMs += JOB_TIMEOUT_S_MAX * 1000 + 5_000
    await run({ type: 'job.cancel', jobId: 'jlong1', by: SUBMITTER })
    const text = await registry.metrics()
    for (const name of ['gridx_job_queue_wait_seconds', 'gridx_job_run_seconds']) {
      const pattern = new RegExp(
        `^${name}_bucket\\{le="([\\d.e+]+)",runtime="bash"\\} (\\d+)$`,
        'gm',
      )
      const buckets = [...text.matchAll(pattern)].map(([, le, count]) => [
        Number(le),
        Number(count),
      ])
      expect(buckets.length, name).toBeGreaterThan(5)
      expect(buckets.at(-1)?.[1], `${name} has a finite bucket over its range`).toBe(1)
    }
  })

  it('should observe the wait of a job whose start came in with its finish', async () => {
    const { ledger, registry, run } = await setup()
    await run({
      type: 'job.submit',
      jobId: 'jquick1',
      submitter: SUBMITTER,
      idempotencyId: 'q',
      spec,
    })
    await run({ type: 'job.assign', jobId: 'jquick1', executor: EXECUTOR })
    const fence = ledger.localRead().jobs.get('jquick1')?.fence as number
    const result = emptyJobResult()
    const outcome = { state: 'succeeded', cause: null, error: null, result } as const
    await run({ type: 'job.finish', jobId: 'jquick1', fence, outcome })
    const text = await registry.metrics()
    expect(text).toMatch(/^gridx_job_queue_wait_seconds_count\{runtime="bash"\} 1$/m)
    expect(text).toMatch(/^gridx_job_run_seconds_count\{runtime="bash"\} 1$/m)
  })

  it('should sum settled credits exactly when each amount is a fraction', async () => {
    const { ledger, registry, run } = await setup()
    for (const n of [1, 2, 3]) {
      const jobId = `jcheap${n}`
      await run({ type: 'job.submit', jobId, submitter: SUBMITTER, idempotencyId: jobId, spec })
      await run({ type: 'job.assign', jobId, executor: EXECUTOR })
      const fence = ledger.localRead().jobs.get(jobId)?.fence as number
      await run({ type: 'job.start', jobId, fence })
      await run({ type: 'job.cancel', jobId, by: SUBMITTER })
    }
    // Each pays the 1-credit minimum, 0.8 to the executor and 0.2 to fees; summed as floats,
    // three of them would be 2.4000000000000004 and 0.6000000000000001.
    const text = await registry.metrics()
    expect(text).toMatch(/^gridx_settled_credits_total\{to="executor"\} 2\.4$/m)
    expect(text).toMatch(/^gridx_settled_credits_total\{to="fees"\} 0\.6$/m)
  })

  it('should count a container start where its executor runs, whoever coordinates', async () => {
    const { ledger, registry, run } = await setup()
    // This ledger's peer is `peer-a`; `peer-x` is another peer's executor.
    await run({ type: 'executor.register', peer: 'peer-a', owner: 'owner-x' })
    const start = async (jobId: string, executor: string, runtime: 'bash' | 'noop') => {
      const spec = jobSpecSchema.parse({ runtime, code: 'true', cpus: 0.1, timeoutS: 60 })
      await run({ type: 'job.submit', jobId, submitter: SUBMITTER, idempotencyId: jobId, spec })
      await run({ type: 'job.assign', jobId, executor })
      const fence = ledger.localRead().jobs.get(jobId)?.fence as number
      await run({ type: 'job.start', jobId, fence })
    }
    await start('jhere1', 'peer-a', 'bash')
    await start('jthere1', EXECUTOR, 'bash')
    // A noop run is done in-process: it starts no container.
    await start('jnoop1', 'peer-a', 'noop')
    expect(await registry.metrics()).toMatch(/^gridx_container_starts_total 1$/m)
  })
})
