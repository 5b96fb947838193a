// The one-machine mesh end to end: API, ledger, scheduler, Docker executor, settlement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_POLICY, GridxError, priceMc, SYSTEM_ACCOUNTS } from '../../protocol/index.ts'
import type { JobView } from '../../protocol/index.ts'
import { hasEngine } from '../fixtures/engine.ts'
import { startTestDaemon } from '../fixtures/daemon.ts'
import type { TestDaemon } from '../fixtures/daemon.ts'

let counter = 0
const idem = () => `test-${process.pid}-${++counter}`

describe.skipIf(!hasEngine)('one-machine mesh', () => {
  let node: TestDaemon

  beforeAll(async () => {
    node = await startTestDaemon()
  })
  afterAll(async () => {
    await node?.destroy()
  })

  it('should grant 100 credits to the owner on first start', async () => {
    const history = await node.call('account.history', {})
    const grant = history.transfers.find((transfer) => transfer.kind === 'grant')
    expect(grant).toMatchObject({ debit: SYSTEM_ACCOUNTS.mint, amountMc: 100_000 })
  })

  it('should run a python job and settle its price between executor and fees', async () => {
    const before = await node.call('account.balance', {})
    const { job } = await node.call('job.submit', {
      idempotencyId: idem(),
      spec: { runtime: 'python', code: 'import numpy, sklearn\nprint(numpy.arange(4).sum())' },
    })
    const done = await node.waitForJob(job.id)
    expect(done.state).toBe('succeeded')
    expect(done.result?.stdoutTail).toBe('6\n')
    // Charged for the time it ran with what it reserved, at least 1 credit; 80 % to the owner.
    const price = priceMc(DEFAULT_POLICY, done.spec, done.result?.wallMs ?? NaN)
    expect(price).toBeGreaterThanOrEqual(1000)
    expect(done.priceMc).toBe(price)
    expect(done.executorPaidMc).toBe(Math.floor(price * 0.8))
    expect(done.feesPaidMc).toBe(price - Math.floor(price * 0.8))
    const after = await node.call('account.balance', {})
    // One machine: the submitter is also the executor's owner, so only the fee leaves.
    expect(after.balanceMc).toBe(before.balanceMc - (done.feesPaidMc ?? NaN))
    expect(after.escrowedMc).toBe(0)
    const kinds = (await node.call('account.history', {})).transfers
      .filter((transfer) => transfer.jobId === job.id)
      .map((transfer) => transfer.kind)
      .sort()
    expect(kinds).toEqual(['escrow', 'payment', 'refund'])
  })

  it('should refuse a job that cannot be paid for and create nothing', async () => {
    const before = await node.call('job.list', {})
    const balance = await node.call('account.balance', {})
    const error = await node
      .call('job.submit', {
        idempotencyId: idem(),
        spec: { runtime: 'bash', code: 'true', timeoutS: 3600, cpus: 2 },
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GridxError)
    expect((error as GridxError).name).toBe('INSUFFICIENT_FUNDS')
    expect((error as GridxError).data?.requiredMc).toBeGreaterThan(balance.balanceMc)
    expect((await node.call('job.list', {})).jobs).toEqual(before.jobs)
    expect(await node.call('account.balance', {})).toEqual(balance)
  })

  it('should create nothing new when a submission is replayed with the same idempotency id', async () => {
    const idempotencyId = idem()
    const spec = { runtime: 'bash' as const, code: 'echo once' }
    const first = await node.call('job.submit', { idempotencyId, spec })
    const second = await node.call('job.submit', { idempotencyId, spec })
    expect(first.created).toBe(true)
    expect(second.created).toBe(false)
    expect(second.job.id).toBe(first.job.id)
    await node.waitForJob(first.job.id)
    const escrows = (await node.call('account.history', {})).transfers.filter(
      (transfer) => transfer.jobId === first.job.id && transfer.kind === 'escrow',
    )
    expect(escrows).toHaveLength(1)
  })

  it('should stream live output to a subscriber while the job runs', async () => {
    const client = await node.socket()
    const { job } = await node.call('job.submit', {
      idempotencyId: idem(),
      spec: { runtime: 'bash', code: 'for i in 1 2 3; do echo line $i; sleep 0.3; done' },
    })
    const chunks: string[] = []
    const { promise: ended, resolve } = Promise.withResolvers<void>()
    let runningWhenFirstSeen: string | undefined
    await client.subscribe('logs', { id: job.id }, (event) => {
      if ('end' in event) return resolve()
      if (chunks.length === 0) {
        void node.call('job.get', { id: job.id }).then((j) => (runningWhenFirstSeen ??= j.state))
      }
      chunks.push(event.data)
    })
    await ended
    expect(chunks.join('')).toBe('line 1\nline 2\nline 3\n')
    expect(runningWhenFirstSeen).toBe('running')
  })

  it('should charge a cancelled running job for the time it ran', async () => {
    const { job } = await node.call('job.submit', {
      idempotencyId: idem(),
      spec: { runtime: 'bash', code: 'echo started; sleep 30', timeoutS: 60 },
    })
    const client = await node.socket()
    const { promise: started, resolve } = Promise.withResolvers<void>()
    await client.subscribe('logs', { id: job.id }, (event) => {
      if (!('end' in event)) resolve()
    })
    await started
    const cancelled = await node.call('job.cancel', { id: job.id, idempotencyId: idem() })
    expect(cancelled.state).toBe('cancelled')
    expect(cancelled.priceMc).toBe(1000)
    expect(cancelled.maxPriceMc).toBeGreaterThan(1000)
    const balance = await node.call('account.balance', {})
    expect(balance.escrowedMc).toBe(0)
  })

  it('should run as many jobs as capacity allows and queue the rest in order', async () => {
    const peers = await node.call('mesh.peers', {})
    const cpus = peers.peers[0]?.capacity?.cpus ?? 0
    expect(cpus).toBeGreaterThanOrEqual(1)
    const slots = Math.floor(cpus)
    const count = slots + 2
    const jobs: JobView[] = []
    for (let i = 0; i < count; i++) {
      const { job } = await node.call('job.submit', {
        idempotencyId: idem(),
        spec: { runtime: 'bash', code: 'sleep 1', cpus: 1, timeoutS: 30 },
      })
      jobs.push(job)
    }
    const done = await Promise.all(jobs.map((job) => node.waitForJob(job.id)))
    expect(done.every((job) => job.state === 'succeeded')).toBe(true)
    // Never more running at once than the executor has CPUs.
    const events = done.flatMap((job) => [
      { at: job.startedAt as number, delta: 1 },
      { at: job.finishedAt as number, delta: -1 },
    ])
    events.sort((a, b) => a.at - b.at || a.delta - b.delta)
    let running = 0
    let peak = 0
    for (const event of events) peak = Math.max(peak, (running += event.delta))
    expect(peak).toBeLessThanOrEqual(slots)
    // First in, first out: jobs were given to the executor in the order they were submitted.
    const starts = done.map((job) => job.assignedAt as number)
    expect([...starts].sort((a, b) => a - b)).toEqual(starts)
  })

  it('should expose jobs, queue, container starts and settlements on /metrics', async () => {
    const text = await (await fetch(`${node.daemon.address.url}/metrics`)).text()
    expect(text).toMatch(/gridx_jobs\{state="succeeded"\} [1-9]/)
    expect(text).toMatch(/gridx_queue_length 0/)
    expect(text).toMatch(/gridx_container_starts_total [1-9]/)
    expect(text).toMatch(/gridx_settlements_total\{outcome="charged"\} [1-9]/)
  })

  it('should keep jobs and balances across a restart', async () => {
    const jobs = await node.call('job.list', {})
    const balance = await node.call('account.balance', {})
    node = await node.restart()
    expect(await node.call('job.list', {})).toEqual(jobs)
    expect(await node.call('account.balance', {})).toEqual(balance)
  })
})

describe('a peer without an executor', () => {
  it('should refuse jobs with a clear error and say why in peers', async () => {
    const node = await startTestDaemon({ executor: false })
    try {
      const error = await node
        .call('job.submit', {
          idempotencyId: idem(),
          spec: { runtime: 'python', code: 'print(1)' },
        })
        .catch((e: unknown) => e)
      expect((error as GridxError).name).toBe('UNAVAILABLE')
      expect((error as GridxError).message).toMatch(/no peer in this mesh can run python jobs/)
      expect((await node.call('job.list', {})).jobs).toEqual([])
      const { peers } = await node.call('mesh.peers', {})
      expect(peers[0]?.executorProblem).toMatch(/no-executor/)
    } finally {
      await node.destroy()
    }
  })
})
