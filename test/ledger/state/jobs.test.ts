import { describe, expect, it } from 'vitest'
import {
  DEFAULT_POLICY,
  ESCROW_GRACE_MS,
  JOB_RETRIES_MAX,
  priceMc,
  QUEUE_CODE_BYTES_PER_ACCOUNT_MAX,
  QUEUE_JOBS_PER_ACCOUNT_MAX,
} from '../../../protocol/index.ts'
import {
  encodeState,
  escrowExpiresAt,
  ledgerViolations,
  maxPriceOf,
} from '../../../ledger/state/index.ts'
import {
  cheapSpec,
  codeFailure,
  escrowBalanceOf,
  executorFailure,
  Ledger,
  spec,
  succeeded,
} from './ledger-fixture.ts'

/** Escrow of a job with default limits: 1 cpu × 100 mc × 60 s + 0.5 GiB × 50 mc × 60 s,
 * 6 000 + 1 500 mc. */
const DEFAULT_ESCROW_MC = priceMc(DEFAULT_POLICY, spec(), 60_000)

/** alice submits, bob owns executor peer-1. */
function mesh(): Ledger {
  return new Ledger().open('alice').open('bob').register('peer-1', 'bob')
}

describe('job.submit', () => {
  it('should escrow the price at the full timeout with the reserved resources when submitted', () => {
    const ledger = mesh()
    const jobSpec = spec({ cpus: 2, memoryMb: 1024, timeoutS: 30 })
    // 2 cpus × 100 mc × 30 s + 1 GiB × 50 mc × 30 s.
    const expected = 6_000 + 1_500
    expect(priceMc(DEFAULT_POLICY, jobSpec, 30_000)).toBe(expected)
    expect(ledger.submit('j000001', 'alice', jobSpec)).toEqual({
      ok: true,
      value: { jobId: 'j000001', created: true },
    })
    const job = ledger.job('j000001')
    expect(job.maxPriceMc).toBe(expected)
    expect(job.state).toBe('queued')
    expect(ledger.balance('alice')).toBe(100_000 - expected)
    expect(ledger.balance('escrow')).toBe(expected)
    expect(ledger.state.accounts.get('alice')?.escrowedMc).toBe(expected)
    expect(ledger.transfersOf('j000001')).toEqual([
      expect.objectContaining({ debit: 'alice', credit: 'escrow', amountMc: expected }),
    ])
    expect(ledger.state.queue).toEqual(['j000001'])
  })

  it('should escrow the 1-credit minimum when the full-timeout price is below it', () => {
    const ledger = mesh()
    expect(ledger.submit('j000001', 'alice', cheapSpec()).ok).toBe(true)
    expect(ledger.job('j000001').maxPriceMc).toBe(1000)
    expect(maxPriceOf(ledger.state, cheapSpec())).toBe(1000)
  })

  it('should refuse with INSUFFICIENT_FUNDS and change nothing when the balance cannot cover it', () => {
    const ledger = mesh()
    // 4 cpus and 512 MiB for an hour: 4 × 100 × 3 600 + 0.5 × 50 × 3 600 = 1 440 000 + 90 000 mc,
    // far above the 100 000 mc grant.
    const error = ledger.refused({
      type: 'job.submit',
      jobId: 'j000001',
      submitter: 'alice',
      idempotencyId: 'big',
      spec: spec({ cpus: 4, timeoutS: 3600 }),
    })
    expect(error.name).toBe('INSUFFICIENT_FUNDS')
    expect(error.data).toEqual({ requiredMc: 1_440_000 + 90_000, availableMc: 100_000 })
    expect(ledger.state.jobs.size).toBe(0)
  })

  it('should refuse when earlier escrows leave too little available', () => {
    const ledger = mesh()
    // 1 cpu × 100 mc × 300 s + 0.5 GiB × 50 mc × 300 s = 30 000 + 7 500 mc: two escrows fit in
    // the 100 000 mc grant, a third does not.
    const jobSpec = spec({ timeoutS: 300 })
    expect(priceMc(DEFAULT_POLICY, jobSpec, 300_000)).toBe(37_500)
    expect(ledger.submit('j000001', 'alice', jobSpec).ok).toBe(true)
    expect(ledger.submit('j000002', 'alice', jobSpec).ok).toBe(true)
    const error = ledger.refused({
      type: 'job.submit',
      jobId: 'j000003',
      submitter: 'alice',
      idempotencyId: 'third',
      spec: jobSpec,
    })
    expect(error).toMatchObject({
      name: 'INSUFFICIENT_FUNDS',
      data: { requiredMc: 37_500, availableMc: 100_000 - 2 * 37_500 },
    })
  })

  it('should return the first job and create nothing when the idempotency id is replayed', () => {
    const ledger = mesh()
    expect(ledger.submit('j000001', 'alice', spec(), 'once').ok).toBe(true)
    const before = ledger.state.transfers.length
    const replay = ledger.submit('j000002', 'alice', spec(), 'once')
    expect(replay).toEqual({ ok: true, value: { jobId: 'j000001', created: false } })
    expect(ledger.state.jobs.size).toBe(1)
    expect(ledger.state.transfers).toHaveLength(before)
    expect(ledger.state.queue).toEqual(['j000001'])
    expect(ledger.balance('alice')).toBe(100_000 - DEFAULT_ESCROW_MC)
  })

  it('should return the first job when the replay comes after the job ended', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec())
    expect(ledger.finish('j000001', fence, succeeded(1000)).ok).toBe(true)
    const replay = ledger.submit('j000002', 'alice', spec(), 'j000001')
    expect(replay).toEqual({ ok: true, value: { jobId: 'j000001', created: false } })
    expect(ledger.state.jobs.size).toBe(1)
  })

  it('should return the first job when the replay lists its env keys in another order', () => {
    const ledger = mesh()
    const first = spec({ env: { A: '1', B: '2' } })
    const reordered = spec({ env: { B: '2', A: '1' } })
    expect(Object.keys(reordered.env)).toEqual(['B', 'A'])
    expect(ledger.submit('j000001', 'alice', first, 'once').ok).toBe(true)
    const replay = ledger.submit('j000002', 'alice', reordered, 'once')
    expect(replay).toEqual({ ok: true, value: { jobId: 'j000001', created: false } })
  })

  it('should refuse with CONFLICT when the replay changes one env value', () => {
    const ledger = mesh()
    expect(ledger.submit('j000001', 'alice', spec({ env: { A: '1', B: '2' } }), 'once').ok).toBe(
      true,
    )
    const replay = ledger.submit('j000002', 'alice', spec({ env: { B: '3', A: '1' } }), 'once')
    expect(replay).toMatchObject({ ok: false, error: { name: 'CONFLICT' } })
  })

  it('should refuse with CONFLICT when the idempotency id comes back with a different spec', () => {
    const ledger = mesh()
    expect(ledger.submit('j000001', 'alice', spec(), 'once').ok).toBe(true)
    const error = ledger.refused({
      type: 'job.submit',
      jobId: 'j000002',
      submitter: 'alice',
      idempotencyId: 'once',
      spec: spec({ code: 'print(2)' }),
    })
    expect(error).toMatchObject({ name: 'CONFLICT', data: { field: 'idempotencyId' } })
  })

  it('should treat the same idempotency id from another account as a new job', () => {
    const ledger = mesh()
    expect(ledger.submit('j000001', 'alice', spec(), 'same').ok).toBe(true)
    expect(ledger.submit('j000002', 'bob', spec(), 'same')).toEqual({
      ok: true,
      value: { jobId: 'j000002', created: true },
    })
  })

  it('should refuse with CONFLICT when the job id is taken', () => {
    const ledger = mesh()
    expect(ledger.submit('j000001', 'alice', spec(), 'a').ok).toBe(true)
    const error = ledger.refused({
      type: 'job.submit',
      jobId: 'j000001',
      submitter: 'bob',
      idempotencyId: 'b',
      spec: spec(),
    })
    expect(error.name).toBe('CONFLICT')
  })

  it('should refuse with NOT_FOUND when the submitter has no account', () => {
    const ledger = mesh()
    const error = ledger.refused({
      type: 'job.submit',
      jobId: 'j000001',
      submitter: 'mallory',
      idempotencyId: 'm',
      spec: cheapSpec(),
    })
    expect(error.name).toBe('NOT_FOUND')
  })

  it.each(['escrow', 'fees', 'mint'])(
    'should refuse with NOT_FOUND and change nothing when the submitter is the %s account',
    (submitter) => {
      // Give fees and escrow money to spend: a settled job and a held escrow.
      const ledger = mesh()
      const fence = ledger.runJob(
        'j000001',
        'alice',
        'peer-1',
        spec({ cpus: 2, memoryMb: 1024, timeoutS: 30 }),
      )
      ledger.finish('j000001', fence, succeeded(30_000))
      ledger.submit('j000002', 'alice', spec())
      expect(ledger.balance('fees')).toBeGreaterThan(1000)
      const error = ledger.refused({
        type: 'job.submit',
        jobId: 'j000003',
        submitter,
        idempotencyId: 'system',
        spec: cheapSpec(),
      })
      expect(error.name).toBe('NOT_FOUND')
    },
  )

  it('should refuse with QUEUE_FULL when the account has the most unfinished jobs allowed', () => {
    const ledger = mesh()
    ledger.ok({
      type: 'policy.set',
      policy: { ...DEFAULT_POLICY, joinGrantMc: 1000 * (QUEUE_JOBS_PER_ACCOUNT_MAX + 10) },
    })
    ledger.open('carol')
    for (let i = 0; i < QUEUE_JOBS_PER_ACCOUNT_MAX; i++) {
      expect(ledger.submit(`j${String(i).padStart(6, '0')}`, 'carol', cheapSpec()).ok).toBe(true)
    }
    const command = {
      type: 'job.submit',
      jobId: 'jfull00',
      submitter: 'carol',
      idempotencyId: 'full',
      spec: cheapSpec(),
    } as const
    expect(ledger.refused(command).name).toBe('QUEUE_FULL')
    // A finished job frees a place.
    const fence = ledger.assign('j000000', 'peer-1')
    expect(ledger.finish('j000000', fence, succeeded(10)).ok).toBe(true)
    expect(ledger.run(command).ok).toBe(true)
  })
})

describe('job.assign, start and finish', () => {
  it('should set the fence to the log index of the assignment when assigned', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    const index = ledger.state.appliedIndex + 1
    expect(ledger.assign('j000001', 'peer-1')).toBe(index)
    const job = ledger.job('j000001')
    expect(job).toMatchObject({
      state: 'assigned',
      fence: index,
      executor: 'peer-1',
      executorOwner: 'bob',
      attempts: 1,
    })
    expect(ledger.state.queue).toEqual([])
  })

  it('should refuse an assignment when the job is not queued or the executor is unknown', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    expect(ledger.refused({ type: 'job.assign', jobId: 'j000001', executor: 'peer-9' }).name).toBe(
      'NOT_FOUND',
    )
    ledger.assign('j000001', 'peer-1')
    expect(ledger.refused({ type: 'job.assign', jobId: 'j000001', executor: 'peer-1' }).name).toBe(
      'INVALID_STATE',
    )
    expect(ledger.refused({ type: 'job.assign', jobId: 'j999999', executor: 'peer-1' }).name).toBe(
      'NOT_FOUND',
    )
  })

  it('should refuse start and finish with CONFLICT and change nothing when the fence is stale', () => {
    const ledger = mesh().register('peer-2', 'bob')
    ledger.submit('j000001', 'alice', spec())
    const stale = ledger.assign('j000001', 'peer-1')
    ledger.run({ type: 'job.lost', jobId: 'j000001', fence: stale, reason: 'peer vanished' })
    const fence = ledger.assign('j000001', 'peer-2')
    expect(fence).not.toBe(stale)
    expect(ledger.refused({ type: 'job.start', jobId: 'j000001', fence: stale }).name).toBe(
      'CONFLICT',
    )
    expect(ledger.start('j000001', fence).ok).toBe(true)
    const finish = {
      type: 'job.finish',
      jobId: 'j000001',
      fence: stale,
      outcome: succeeded(1000),
    } as const
    expect(ledger.refused(finish).name).toBe('CONFLICT')
    expect(ledger.refused({ ...finish, outcome: executorFailure() }).name).toBe('CONFLICT')
    expect(
      ledger.refused({ type: 'job.lost', jobId: 'j000001', fence: stale, reason: 'late' }).name,
    ).toBe('CONFLICT')
    expect(ledger.finish('j000001', fence, succeeded(1000)).ok).toBe(true)
  })

  it('should record the start with the result when an assigned job is reported finished', () => {
    // An executor whose run ended before its start was proposed reports only the finish.
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    const fence = ledger.assign('j000001', 'peer-1')
    expect(ledger.finish('j000001', fence, succeeded(1000)).ok).toBe(true)
    const job = ledger.job('j000001')
    expect(job.state).toBe('succeeded')
    expect(job.startedAt).toBe(job.finishedAt)
    expect(job.events.map((event) => event.state)).toEqual([
      'queued',
      'assigned',
      'running',
      'succeeded',
    ])
    expect(job.priceMc).toBe(priceMc(DEFAULT_POLICY, spec(), 1000))
  })

  it('should record no start when an assigned job is handed back by its executor', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    const fence = ledger.assign('j000001', 'peer-1')
    expect(ledger.finish('j000001', fence, executorFailure()).ok).toBe(true)
    const job = ledger.job('j000001')
    expect(job.startedAt).toBeNull()
    expect(job.events.map((event) => event.state)).toEqual(['queued', 'assigned', 'lost', 'queued'])
  })

  it('should refuse a second finish when the job already ended', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec())
    expect(ledger.finish('j000001', fence, succeeded(1000)).ok).toBe(true)
    const again = { type: 'job.finish', jobId: 'j000001', fence, outcome: succeeded(5000) } as const
    expect(ledger.refused(again).name).toBe('INVALID_STATE')
    expect(ledger.refused({ type: 'job.start', jobId: 'j000001', fence }).name).toBe(
      'INVALID_STATE',
    )
  })

  it.each([
    ['exit', 'failed'],
    ['timeout', 'timed_out'],
    ['oom', 'failed'],
  ] as const)('should charge for wallMs used when the code failed with %s', (kind, final) => {
    const ledger = mesh()
    const jobSpec = spec({ cpus: 1, memoryMb: 1024, timeoutS: 60 })
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', jobSpec)
    // 10 s of 1 cpu and 1 GiB: 1 × 100 × 10 + 1 × 50 × 10 = 1 000 + 500 mc; 0.8 to the owner.
    expect(ledger.finish('j000001', fence, codeFailure(kind, 10_000)).ok).toBe(true)
    const job = ledger.job('j000001')
    expect(job.state).toBe(final)
    expect(job.priceMc).toBe(1_500)
    expect(job.executorPaidMc).toBe(1_200)
    expect(job.feesPaidMc).toBe(300)
    expect(ledger.balance('alice')).toBe(100_000 - 1_500)
    expect(ledger.balance('bob')).toBe(100_000 + 1_200)
    expect(ledger.balance('fees')).toBe(300)
    expect(ledger.balance('escrow')).toBe(0)
    expect(escrowBalanceOf(ledger.transfersOf('j000001'))).toBe(0)
  })

  it('should charge no more than the timeout when the reported wall time exceeds it', () => {
    const ledger = mesh()
    const jobSpec = spec({ timeoutS: 10 })
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', jobSpec)
    expect(ledger.finish('j000001', fence, codeFailure('timeout', 12_345)).ok).toBe(true)
    expect(ledger.job('j000001').priceMc).toBe(ledger.job('j000001').maxPriceMc)
    expect(ledger.balance('alice')).toBe(100_000 - ledger.job('j000001').maxPriceMc)
  })

  it('should requeue at the front with the attempt counted and charge nothing when the executor failed', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    ledger.submit('j000002', 'alice', spec())
    const fence = ledger.assign('j000001', 'peer-1')
    ledger.start('j000001', fence)
    expect(ledger.finish('j000001', fence, executorFailure())).toEqual({
      ok: true,
      value: { requeued: true },
    })
    const job = ledger.job('j000001')
    expect(job).toMatchObject({ state: 'queued', attempts: 1, fence: null, executor: null })
    expect(ledger.state.queue).toEqual(['j000001', 'j000002'])
    expect(job.events.map((event) => event.state)).toEqual([
      'queued',
      'assigned',
      'running',
      'lost',
      'queued',
    ])
    expect(ledger.balance('alice')).toBe(100_000 - 2 * DEFAULT_ESCROW_MC)
    expect(ledger.balance('bob')).toBe(100_000)
    expect(ledger.transfersOf('j000001')).toHaveLength(1)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should fail the job and void the escrow when the executor failed it after the last retry', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    for (let run = 1; run <= JOB_RETRIES_MAX; run++) {
      const fence = ledger.assign('j000001', 'peer-1')
      expect(ledger.run({ type: 'job.lost', jobId: 'j000001', fence, reason: 'gone' })).toEqual({
        ok: true,
        value: { requeued: true },
      })
      expect(ledger.job('j000001').attempts).toBe(run)
    }
    const fence = ledger.assign('j000001', 'peer-1')
    ledger.start('j000001', fence)
    expect(ledger.finish('j000001', fence, executorFailure())).toEqual({
      ok: true,
      value: { requeued: false },
    })
    const job = ledger.job('j000001')
    expect(job).toMatchObject({
      state: 'failed',
      attempts: JOB_RETRIES_MAX + 1,
      priceMc: 0,
      executorPaidMc: 0,
      feesPaidMc: 0,
      escrowHeld: false,
    })
    expect(ledger.state.queue).toEqual([])
    expect(ledger.balance('alice')).toBe(100_000)
    expect(ledger.balance('bob')).toBe(100_000)
    expect(ledger.balance('escrow')).toBe(0)
    expect(escrowBalanceOf(ledger.transfersOf('j000001'))).toBe(0)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })
})

describe('job.cancel', () => {
  it('should refund the whole escrow when a queued job is cancelled', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    expect(ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })).toEqual({
      cancelled: true,
    })
    expect(ledger.job('j000001')).toMatchObject({ state: 'cancelled', priceMc: 0 })
    expect(ledger.state.queue).toEqual([])
    expect(ledger.balance('alice')).toBe(100_000)
    expect(ledger.balance('escrow')).toBe(0)
  })

  it('should refund the whole escrow when an assigned job that never started is cancelled', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    ledger.assign('j000001', 'peer-1')
    ledger.advance(5_000)
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    expect(ledger.balance('alice')).toBe(100_000)
    expect(ledger.balance('bob')).toBe(100_000)
  })

  it('should charge for the log time since start when a running job is cancelled', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec({ memoryMb: 1024 }))
    ledger.advance(20_000)
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    // 20 s of 1 cpu and 1 GiB: 1 × 100 × 20 + 1 × 50 × 20 = 2 000 + 1 000 mc; 0.8 to the owner.
    expect(ledger.job('j000001')).toMatchObject({
      state: 'cancelled',
      priceMc: 3_000,
      executorPaidMc: 2_400,
      feesPaidMc: 600,
    })
    expect(ledger.balance('alice')).toBe(100_000 - 3_000)
    expect(ledger.balance('bob')).toBe(100_000 + 2_400)
    // The executor's late result is refused.
    const late = {
      type: 'job.finish',
      jobId: 'j000001',
      fence,
      outcome: succeeded(25_000),
    } as const
    expect(ledger.refused(late).name).toBe('INVALID_STATE')
  })

  it('should refuse with INVALID_STATE when the job already ended', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec())
    ledger.finish('j000001', fence, succeeded(1000))
    const error = ledger.refused({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    expect(error.name).toBe('INVALID_STATE')
  })

  it('should refuse with NOT_FOUND when someone else cancels the job', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    expect(ledger.refused({ type: 'job.cancel', jobId: 'j000001', by: 'bob' }).name).toBe(
      'NOT_FOUND',
    )
    expect(ledger.refused({ type: 'job.cancel', jobId: 'j999999', by: 'alice' }).name).toBe(
      'NOT_FOUND',
    )
    expect(ledger.job('j000001').state).toBe('queued')
  })

  it('should change nothing when a cancelled job is cancelled again', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec())
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    const before = ledger.state.transfers.length
    expect(ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })).toEqual({
      cancelled: false,
    })
    expect(ledger.state.transfers).toHaveLength(before)
    expect(ledger.balance('alice')).toBe(100_000)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })
})

describe('job.expire', () => {
  it('should refuse with INVALID_STATE and change nothing before the escrow expires', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec({ timeoutS: 60 }))
    const job = ledger.job('j000001')
    expect(escrowExpiresAt(job)).toBe(job.createdAt + 60_000 + ESCROW_GRACE_MS)
    ledger.advance(60_000 + ESCROW_GRACE_MS - 1)
    expect(ledger.refused({ type: 'job.expire', jobId: 'j000001' }).name).toBe('INVALID_STATE')
    expect(ledger.refused({ type: 'job.expire', jobId: 'j999999' }).name).toBe('NOT_FOUND')
  })

  it('should fail the job and refund the submitter when the escrow has expired', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec({ timeoutS: 60 }))
    ledger.advance(60_000 + ESCROW_GRACE_MS)
    expect(ledger.run({ type: 'job.expire', jobId: 'j000001' }).ok).toBe(true)
    expect(ledger.job('j000001')).toMatchObject({ state: 'failed', escrowHeld: false })
    expect(ledger.state.queue).toEqual([])
    expect(ledger.balance('alice')).toBe(100_000)
    expect(ledger.balance('escrow')).toBe(0)
    expect(ledger.refused({ type: 'job.expire', jobId: 'j000001' }).name).toBe('INVALID_STATE')
  })

  it('should refuse the stale executor result when a running job expired', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec({ timeoutS: 1 }))
    ledger.advance(1_000 + ESCROW_GRACE_MS)
    ledger.ok({ type: 'job.expire', jobId: 'j000001' })
    const late = { type: 'job.finish', jobId: 'j000001', fence, outcome: succeeded(900) } as const
    expect(ledger.refused(late).name).toBe('CONFLICT')
    expect(ledger.balance('alice')).toBe(100_000)
    expect(ledger.balance('bob')).toBe(100_000)
  })
})

describe('job code', () => {
  const CODE = `print("${'x'.repeat(200)}")`

  /** Whether the state still holds the job's code anywhere. */
  function holdsCode(ledger: Ledger): boolean {
    return encodeState(ledger.state).includes('x'.repeat(200))
  }

  it('should keep the code while the job is queued, assigned, running or requeued', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec({ code: CODE }))
    expect(ledger.job('j000001').code).toBe(CODE)
    ledger.ok({ type: 'job.lost', jobId: 'j000001', fence, reason: 'gone' })
    expect(ledger.job('j000001').state).toBe('queued')
    expect(holdsCode(ledger)).toBe(true)
  })

  it('should drop the code from the state when the job is cancelled', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec({ code: CODE }))
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    expect(ledger.job('j000001').code).toBeNull()
    expect(holdsCode(ledger)).toBe(false)
  })

  it('should drop the code from the state when the job finishes, fails or expires', () => {
    const ledger = mesh()
    const a = ledger.runJob('j000001', 'alice', 'peer-1', spec({ code: CODE }))
    ledger.finish('j000001', a, succeeded(500))
    const b = ledger.runJob('j000002', 'alice', 'peer-1', spec({ code: CODE, args: ['b'] }))
    ledger.finish('j000002', b, codeFailure('exit', 500))
    ledger.submit('j000003', 'alice', spec({ code: CODE, timeoutS: 1 }))
    ledger.advance(1_000 + ESCROW_GRACE_MS)
    ledger.ok({ type: 'job.expire', jobId: 'j000003' })
    for (const id of ['j000001', 'j000002', 'j000003']) expect(ledger.job(id).code).toBeNull()
    expect(holdsCode(ledger)).toBe(false)
  })

  it('should keep the code size and digest when the code is dropped', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec({ code: 'print("é")' }))
    const digest = ledger.job('j000001').codeSha256
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    expect(ledger.job('j000001')).toMatchObject({ codeBytes: 11, codeSha256: digest })
    expect(digest).toMatch(/^[0-9a-f]{64}$/)
  })

  it('should tell a replay from a conflict by the code digest when the job has ended', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec({ code: CODE }), 'once')
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    expect(ledger.submit('j000002', 'alice', spec({ code: CODE }), 'once')).toEqual({
      ok: true,
      value: { jobId: 'j000001', created: false },
    })
    const changed = ledger.submit('j000002', 'alice', spec({ code: `${CODE}\n` }), 'once')
    expect(changed).toMatchObject({ ok: false, error: { name: 'CONFLICT' } })
  })

  it('should refuse with QUEUE_FULL when the account’s open jobs hold too much code', () => {
    const ledger = mesh()
    const big = 'x'.repeat(1024 * 1024 - 2)
    const fits = Math.floor(QUEUE_CODE_BYTES_PER_ACCOUNT_MAX / (1024 * 1024))
    for (let i = 0; i < fits; i++) {
      const submitted = ledger.submit(`j${String(i).padStart(6, '0')}`, 'alice', cheapSpec(big))
      expect(submitted.ok).toBe(true)
    }
    const error = ledger.refused({
      type: 'job.submit',
      jobId: 'j999999',
      submitter: 'alice',
      idempotencyId: 'one-more',
      spec: cheapSpec(big),
    })
    expect(error).toMatchObject({ name: 'QUEUE_FULL', data: { field: 'spec.code' } })
    // Another account's queue is its own; and a finished job's code no longer counts.
    expect(ledger.submit('j888888', 'bob', cheapSpec(big)).ok).toBe(true)
    ledger.ok({ type: 'job.cancel', jobId: 'j000000', by: 'alice' })
    expect(ledger.submit('j999999', 'alice', cheapSpec(big), 'one-more').ok).toBe(true)
  })
})
