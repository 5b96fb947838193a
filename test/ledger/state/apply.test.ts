import { describe, expect, it } from 'vitest'
import { activeJobs, apply, createState, InvariantError } from '../../../ledger/state/index.ts'
import type { Command } from '../../../ledger/state/index.ts'
import { Ledger, spec, START_MS } from './ledger-fixture.ts'

const open: Command = { type: 'account.open', account: 'alice' }
const proposal = (session: string) => ({
  session,
  sequence: 1,
  acknowledged: 0,
  proposedAt: START_MS,
})

describe('apply', () => {
  it('should throw InvariantError and change nothing when an entry comes out of order', () => {
    const state = createState()
    apply(state, { index: 1, logTime: START_MS, proposal: proposal('p1'), command: open })
    expect(() =>
      apply(state, { index: 3, logTime: START_MS, proposal: proposal('p3'), command: open }),
    ).toThrow(InvariantError)
    expect(() =>
      apply(state, { index: 1, logTime: START_MS, proposal: proposal('p4'), command: open }),
    ).toThrow(InvariantError)
    expect(state.appliedIndex).toBe(1)
    expect(
      apply(state, { index: 2, logTime: START_MS, proposal: proposal('p2'), command: open }).ok,
    ).toBe(true)
  })

  it('should keep the largest log time when an entry carries an earlier one', () => {
    const state = createState()
    apply(state, { index: 1, logTime: START_MS + 5_000, proposal: proposal('p1'), command: open })
    apply(state, {
      index: 2,
      logTime: START_MS,
      proposal: proposal('p2'),
      command: { type: 'account.open', account: 'b' },
    })
    expect(state.logTime).toBe(START_MS + 5_000)
    // Transfers are stamped with log time, so they never go back either.
    expect(state.transfers.map((transfer) => transfer.at)).toEqual([
      START_MS + 5_000,
      START_MS + 5_000,
    ])
  })

  it('should advance the applied index when a command is refused', () => {
    const ledger = new Ledger()
    expect(ledger.run({ type: 'job.expire', jobId: 'j000001' }).ok).toBe(false)
    expect(ledger.state.appliedIndex).toBe(1)
  })

  it('should refuse with INVALID_REQUEST when the command type is unknown', () => {
    const ledger = new Ledger()
    const error = ledger.refused({ type: 'job.explode' } as unknown as Command)
    expect(error.name).toBe('INVALID_REQUEST')
  })

  it('should replace the owner when an executor registers again', () => {
    const ledger = new Ledger().open('alice').open('bob').open('carol')
    ledger.register('peer-1', 'bob').register('peer-1', 'carol')
    ledger.submit('j000001', 'alice', spec())
    ledger.assign('j000001', 'peer-1')
    expect(ledger.job('j000001').executorOwner).toBe('carol')
    expect(ledger.state.executors.size).toBe(1)
  })

  it('should count unsettled jobs when some have ended', () => {
    const ledger = new Ledger().open('alice')
    ledger.submit('j000001', 'alice', spec())
    ledger.submit('j000002', 'alice', spec())
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    expect(activeJobs(ledger.state)).toBe(1)
  })
})
