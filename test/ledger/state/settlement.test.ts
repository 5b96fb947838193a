import { describe, expect, it } from 'vitest'
import { DEFAULT_POLICY } from '../../../protocol/index.ts'
import { ledgerViolations } from '../../../ledger/state/index.ts'
import { escrowBalanceOf, Ledger, spec, succeeded } from './ledger-fixture.ts'

function mesh(): Ledger {
  return new Ledger().open('alice').open('bob').register('peer-1', 'bob')
}

describe('settlement', () => {
  it('should charge 1 credit, 800 mc to the owner and 200 mc to fees when a one-second job with default limits succeeds', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec())
    const maxPrice = ledger.job('j000001').maxPriceMc
    expect(ledger.finish('j000001', fence, succeeded(1000)).ok).toBe(true)
    expect(ledger.job('j000001')).toMatchObject({
      state: 'succeeded',
      priceMc: 1000,
      executorPaidMc: 800,
      feesPaidMc: 200,
      escrowHeld: false,
    })
    expect(
      ledger.transfersOf('j000001').map((t) => [t.kind, t.debit, t.credit, t.amountMc]),
    ).toEqual([
      ['escrow', 'alice', 'escrow', maxPrice],
      ['payment', 'escrow', 'bob', 800],
      ['fee', 'escrow', 'fees', 200],
      ['refund', 'escrow', 'alice', maxPrice - 1000],
    ])
    expect(ledger.balance('alice')).toBe(99_000)
    expect(ledger.balance('bob')).toBe(100_800)
    expect(ledger.balance('fees')).toBe(200)
    expect(ledger.balance('escrow')).toBe(0)
    expect(ledger.state.accounts.get('alice')?.escrowedMc).toBe(0)
  })

  it('should charge the minimum when a job ran for no time at all', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec())
    ledger.finish('j000001', fence, succeeded(0))
    expect(ledger.job('j000001').priceMc).toBe(DEFAULT_POLICY.jobMinimumMc)
  })

  it('should round the owner share down and give fees the rest when the split is not whole', () => {
    const ledger = mesh()
    ledger.ok({ type: 'policy.set', policy: { ...DEFAULT_POLICY, executorSharePpm: 333_333 } })
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec())
    ledger.finish('j000001', fence, succeeded(1000))
    // 1000 × 0.333333 = 333.333 → 333; fees 667.
    expect(ledger.job('j000001')).toMatchObject({ executorPaidMc: 333, feesPaidMc: 667 })
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should post no refund when the job used its whole reservation', () => {
    const ledger = mesh()
    // 20 s of 1 cpu and 512 MiB: 2 000 + 500 mc, above the minimum, so the whole reservation
    // is a metered price and not the minimum on both sides.
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec({ timeoutS: 20 }))
    expect(ledger.job('j000001').maxPriceMc).toBeGreaterThan(DEFAULT_POLICY.jobMinimumMc)
    ledger.finish('j000001', fence, succeeded(20_000))
    const kinds = ledger.transfersOf('j000001').map((transfer) => transfer.kind)
    expect(kinds).toEqual(['escrow', 'payment', 'fee'])
    expect(escrowBalanceOf(ledger.transfersOf('j000001'))).toBe(0)
  })

  it('should pay the submitter as owner and still balance when the job ran on their own executor', () => {
    const ledger = mesh().register('peer-a', 'alice')
    const fence = ledger.runJob('j000001', 'alice', 'peer-a', spec())
    ledger.finish('j000001', fence, succeeded(1000))
    expect(ledger.balance('alice')).toBe(100_000 - 200)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should settle at the policy in force when the policy changed while the job ran', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec({ timeoutS: 10 }))
    ledger.ok({ type: 'policy.set', policy: { ...DEFAULT_POLICY, cpuSecondMc: 100_000 } })
    ledger.finish('j000001', fence, succeeded(10_000))
    // The new price is far above the escrow: the charge is capped at what was escrowed.
    const job = ledger.job('j000001')
    expect(job.priceMc).toBe(job.maxPriceMc)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })
})
