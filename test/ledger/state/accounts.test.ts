import { describe, expect, it } from 'vitest'
import { DEFAULT_POLICY, priceMc, SYSTEM_ACCOUNTS } from '../../../protocol/index.ts'
import { balanceView, createState, ledgerViolations } from '../../../ledger/state/index.ts'
import { Ledger, spec } from './ledger-fixture.ts'

describe('accounts', () => {
  it('should hold only the system accounts at zero when the state is new', () => {
    const state = createState()
    expect([...state.accounts.keys()].sort()).toEqual(Object.values(SYSTEM_ACCOUNTS).sort())
    for (const account of state.accounts.values()) expect(account.balanceMc).toBe(0)
    expect(ledgerViolations(state)).toEqual([])
  })

  it('should grant the join grant of 100 credits from the mint when an account opens', () => {
    const ledger = new Ledger()
    expect(ledger.ok({ type: 'account.open', account: 'alice' })).toEqual({ created: true })
    expect(DEFAULT_POLICY.joinGrantMc).toBe(100_000)
    expect(ledger.balance('alice')).toBe(100_000)
    expect(ledger.balance(SYSTEM_ACCOUNTS.mint)).toBe(-100_000)
    expect(ledger.state.transfers).toEqual([
      expect.objectContaining({
        debit: 'mint',
        credit: 'alice',
        amountMc: 100_000,
        kind: 'grant',
        jobId: null,
      }),
    ])
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should grant nothing when the account opens a second time', () => {
    const ledger = new Ledger().open('alice')
    expect(ledger.ok({ type: 'account.open', account: 'alice' })).toEqual({ created: false })
    expect(ledger.balance('alice')).toBe(100_000)
    expect(ledger.state.transfers).toHaveLength(1)
  })

  it('should grant the policy figure in force when the policy changed the join grant', () => {
    const ledger = new Ledger()
    ledger.ok({ type: 'policy.set', policy: { ...DEFAULT_POLICY, joinGrantMc: 5_000 } })
    ledger.open('bob')
    expect(ledger.balance('bob')).toBe(5_000)
  })

  it('should grant nothing to a system account when it is opened', () => {
    const ledger = new Ledger()
    for (const name of Object.values(SYSTEM_ACCOUNTS)) {
      expect(ledger.ok({ type: 'account.open', account: name })).toEqual({ created: false })
    }
    expect(ledger.state.transfers).toEqual([])
  })

  it('should show balance, escrow and what is available when a job holds an escrow', () => {
    const ledger = new Ledger().open('alice')
    // Default limits: 1 cpu and 512 MiB for 60 s is 1 × 100 × 60 + 0.5 × 50 × 60,
    // 6 000 + 1 500 mc.
    const escrowMc = priceMc(DEFAULT_POLICY, spec(), 60_000)
    expect(escrowMc).toBe(7_500)
    expect(ledger.submit('j000001', 'alice', spec()).ok).toBe(true)
    expect(balanceView(ledger.state, 'alice')).toEqual({
      account: 'alice',
      balanceMc: 100_000 - escrowMc,
      escrowedMc: escrowMc,
      availableMc: 100_000 - escrowMc,
    })
    expect(balanceView(ledger.state, 'nobody')).toEqual({
      account: 'nobody',
      balanceMc: 0,
      escrowedMc: 0,
      availableMc: 0,
    })
    expect(balanceView(ledger.state, 'mint').availableMc).toBe(0)
  })

  it('should refuse an executor registration and change nothing when its owner has no account', () => {
    // Pay to an owner who never opened would open the account without its join grant.
    const ledger = new Ledger()
    const error = ledger.refused({ type: 'executor.register', peer: 'peer-1', owner: 'erin' })
    expect(error.name).toBe('NOT_FOUND')
    ledger.open('erin').register('peer-1', 'erin')
    expect(ledger.balance('erin')).toBe(100_000)
  })

  it('should refuse an executor registration when its owner is a system account', () => {
    const ledger = new Ledger()
    for (const owner of Object.values(SYSTEM_ACCOUNTS)) {
      const error = ledger.refused({ type: 'executor.register', peer: 'peer-1', owner })
      expect(error.name).toBe('NOT_FOUND')
    }
    expect(ledger.state.executors.size).toBe(0)
  })
})
