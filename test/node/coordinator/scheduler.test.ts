// The scheduler over a real one-voter ledger (LevelDB in a temp dir) and an in-test executor link.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualTicker, openOneVoterLedger } from '../../../ledger/index.ts'
import type { ApplyResult, RaftDriver } from '../../../ledger/index.ts'
import { emptyJobResult, jobSpecSchema } from '../../../protocol/index.ts'
import type { RunOutcome } from '../../../protocol/index.ts'
import { LiveLogs, Scheduler } from '../../../node/coordinator/index.ts'
import type { Assignment, ExecutorCapacity, ExecutorLink } from '../../../node/coordinator/index.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startReplica(): Promise<RaftDriver> {
  const dir = await mkdtemp(join(tmpdir(), 'gridx-scheduler-'))
  const { driver } = await openOneVoterLedger({
    location: join(dir, 'raft'),
    legacyLocation: null,
    id: 'peer-a',
    clock: { now: () => Date.now() },
    ticker: new ManualTicker(),
  })
  cleanups.push(async () => {
    await driver.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return driver
}

/** An executor that records what it is handed; `onCapacity` runs when the scheduler looks. */
class RecordingLink implements ExecutorLink {
  readonly peer = 'peer-a'
  readonly owner = 'alice'
  readonly assigned: Assignment[] = []
  onCapacity: () => void = () => undefined

  capacity(): ExecutorCapacity {
    this.onCapacity()
    return { cpus: 4, memoryMb: 4096, runtimes: ['python'] }
  }

  assign(assignment: Assignment): void {
    this.assigned.push(assignment)
  }

  cancel(): void {}
}

describe('Scheduler', () => {
  it('should not hand out a job when a cancel lands in the batch that assigned it', async () => {
    const replica = await startReplica()
    await replica.propose({ type: 'account.open', account: 'alice' })
    await replica.propose({ type: 'executor.register', peer: 'peer-a', owner: 'alice' })
    const spec = jobSpecSchema.parse({ runtime: 'python', code: 'print(1)' })
    const jobId = 'jaaaaaaaaaaaa'
    await replica.propose({
      type: 'job.submit',
      jobId,
      submitter: 'alice',
      idempotencyId: 'a',
      spec,
    })
    const scheduler = new Scheduler({
      ledger: replica,
      liveLogs: new LiveLogs(),
      clock: { now: () => Date.now() },
      logger: pino({ level: 'silent' }),
    })
    const link = new RecordingLink()
    // The scheduler asks for capacity just before it proposes the assignment; a cancel proposed
    // in a microtask then joins the same batch, right after the assignment.
    let cancelled: Promise<ApplyResult> | undefined
    link.onCapacity = () => {
      link.onCapacity = () => undefined
      queueMicrotask(() => {
        cancelled = replica.propose({ type: 'job.cancel', jobId, by: 'alice' })
      })
    }
    const assignedIndex = new Promise<number>((resolve) =>
      replica.onApplied((entry) => {
        if (entry.command.type === 'job.assign') resolve(entry.index)
      }),
    )
    scheduler.start()
    cleanups.push(async () => scheduler.stop())
    scheduler.addExecutor(link, new Set())
    const index = await assignedIndex
    expect((await cancelled)?.ok).toBe(true)
    // The cancel was the very next entry: both were applied before the assignment returned.
    expect(replica.localRead().appliedIndex).toBe(index + 1)
    await new Promise((resolve) => setImmediate(resolve))
    expect(replica.localRead().jobs.get(jobId)?.state).toBe('cancelled')
    expect(link.assigned).toEqual([])
  })

  it('should place the jobs behind one that no executor can ever run when it heads the queue', async () => {
    const replica = await startReplica()
    await replica.propose({ type: 'account.open', account: 'alice' })
    await replica.propose({ type: 'executor.register', peer: 'peer-a', owner: 'alice' })
    // No executor offers node; the only one offers 4 CPUs.
    const nodeJob = jobSpecSchema.parse({ runtime: 'node', code: '1' })
    const python = jobSpecSchema.parse({ runtime: 'python', code: 'print(1)' })
    for (const [jobId, spec] of [
      ['jaaaaaaaaaaa1', nodeJob],
      ['jaaaaaaaaaaa2', python],
    ] as const) {
      const submitted = await replica.propose({
        type: 'job.submit',
        jobId,
        submitter: 'alice',
        idempotencyId: jobId,
        spec,
      })
      expect(submitted.ok).toBe(true)
    }
    const scheduler = new Scheduler({
      ledger: replica,
      liveLogs: new LiveLogs(),
      clock: { now: () => Date.now() },
      logger: pino({ level: 'silent' }),
    })
    const link = new RecordingLink()
    scheduler.start()
    cleanups.push(async () => scheduler.stop())
    scheduler.addExecutor(link, new Set())
    for (let tick = 0; tick < 200 && link.assigned.length === 0; tick++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(link.assigned.map((assignment) => assignment.jobId)).toEqual(['jaaaaaaaaaaa2'])
    expect(replica.localRead().jobs.get('jaaaaaaaaaaa1')?.state).toBe('queued')
  })

  it('should propose no start when the finish of the run comes in the same turn', async () => {
    const { replica, scheduler, link, jobId } = await assignedJob()
    const types: string[] = []
    replica.onApplied((entry) => types.push(entry.command.type))
    const { fence } = link.assigned[0] as Assignment
    const started = scheduler.report({ type: 'started', jobId, fence })
    const finished = scheduler.report({ type: 'finished', jobId, fence, outcome: SUCCEEDED })
    expect(await finished).toBe(true)
    expect(await started).toBe(true)
    await replica.nextTurn()
    expect(types.filter((type) => type === 'job.start' || type === 'job.finish')).toEqual([
      'job.finish',
    ])
    const job = replica.localRead().jobs.get(jobId)
    expect(job?.state).toBe('succeeded')
    expect(job?.startedAt).not.toBeNull()
  })

  it('should propose the start when no finish follows it in the same turn', async () => {
    const { replica, scheduler, link, jobId } = await assignedJob()
    const { fence } = link.assigned[0] as Assignment
    expect(await scheduler.report({ type: 'started', jobId, fence })).toBe(true)
    expect(replica.localRead().jobs.get(jobId)?.state).toBe('running')
    expect(await scheduler.report({ type: 'finished', jobId, fence, outcome: SUCCEEDED })).toBe(
      true,
    )
    expect(replica.localRead().jobs.get(jobId)?.state).toBe('succeeded')
  })
})

const SUCCEEDED: RunOutcome = {
  state: 'succeeded',
  cause: null,
  error: null,
  result: { ...emptyJobResult(), exitCode: 0, wallMs: 5 },
}

/** A replica with one python job, a scheduler and a link it has assigned the job to. */
async function assignedJob() {
  const replica = await startReplica()
  await replica.propose({ type: 'account.open', account: 'alice' })
  await replica.propose({ type: 'executor.register', peer: 'peer-a', owner: 'alice' })
  const jobId = 'jaaaaaaaaaaa3'
  const spec = jobSpecSchema.parse({ runtime: 'python', code: 'print(1)' })
  await replica.propose({ type: 'job.submit', jobId, submitter: 'alice', idempotencyId: 'a', spec })
  const scheduler = new Scheduler({
    ledger: replica,
    liveLogs: new LiveLogs(),
    clock: { now: () => Date.now() },
    logger: pino({ level: 'silent' }),
  })
  const link = new RecordingLink()
  scheduler.start()
  cleanups.push(async () => scheduler.stop())
  scheduler.addExecutor(link, new Set())
  for (let tick = 0; tick < 200 && link.assigned.length === 0; tick++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  expect(link.assigned.map((assignment) => assignment.jobId)).toEqual([jobId])
  return { replica, scheduler, link, jobId }
}
