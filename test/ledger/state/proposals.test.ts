// At most once: every entry carries a proposal id, and a proposal delivered again (a duplicated
// forward, a retry after a lost answer) gets its first result back and changes nothing.
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_POLICY,
  PROPOSALS_REMEMBERED_MAX,
  PROPOSAL_WINDOW_MS,
} from '../../../protocol/index.ts'
import { decodeState, encodeState } from '../../../ledger/state/index.ts'
import type { ApplyResult, Command, ProposalId } from '../../../ledger/state/index.ts'
import { encodeAfterNoop, Ledger, spec, succeeded } from './ledger-fixture.ts'

/** Applies `command` under a fresh id, then the very same proposal again: the second time it
 * must answer with the first result and change nothing but the index and log time. */
function twice(ledger: Ledger, command: Command): { first: ApplyResult; again: ApplyResult } {
  const proposal = ledger.proposal()
  const first = ledger.run(command, proposal)
  ledger.advance(1_000)
  const expected = encodeAfterNoop(ledger.state, ledger.state.appliedIndex + 1, ledger.now)
  const again = ledger.run(command, proposal)
  expect(encodeState(ledger.state), `${command.type} applied twice`).toBe(expected)
  return { first, again }
}

function expectReplayed(pair: { first: ApplyResult; again: ApplyResult }): void {
  expect(pair.again).toEqual({ ...pair.first, replayed: true })
}

/** alice and bob with grants, bob's executor registered. */
function ready(): Ledger {
  return new Ledger().open('alice').open('bob').register('peer-1', 'bob')
}

const submit = (jobId: string): Command => ({
  type: 'job.submit',
  jobId,
  submitter: 'alice',
  idempotencyId: jobId,
  spec: spec(),
})

describe('proposal ids', () => {
  it('should answer with the first result and change nothing when account.open comes twice', () => {
    expectReplayed(twice(new Ledger(), { type: 'account.open', account: 'alice' }))
  })

  it('should answer with the first result when executor.register comes twice', () => {
    const ledger = new Ledger().open('bob')
    expectReplayed(twice(ledger, { type: 'executor.register', peer: 'peer-1', owner: 'bob' }))
  })

  it('should answer with the first result when policy.set comes twice', () => {
    const policy = { ...DEFAULT_POLICY, executorSharePpm: 700_000 }
    expectReplayed(twice(new Ledger(), { type: 'policy.set', policy }))
  })

  it('should answer with the first result when job.submit comes twice', () => {
    const pair = twice(ready(), submit('j000001'))
    expectReplayed(pair)
    expect(pair.again).toMatchObject({ ok: true, value: { jobId: 'j000001', created: true } })
  })

  it('should answer with the first fence when job.assign comes twice', () => {
    const ledger = ready()
    ledger.ok(submit('j000001'))
    const pair = twice(ledger, { type: 'job.assign', jobId: 'j000001', executor: 'peer-1' })
    expectReplayed(pair)
    expect(ledger.job('j000001').attempts).toBe(1)
  })

  it('should not assign again when a requeued job receives its first assignment again', () => {
    const ledger = ready()
    ledger.ok(submit('j000001'))
    const assign: Command = { type: 'job.assign', jobId: 'j000001', executor: 'peer-1' }
    const proposal = ledger.proposal()
    const { fence } = (ledger.run(assign, proposal) as { value: { fence: number } }).value
    ledger.ok({ type: 'job.lost', jobId: 'j000001', fence, reason: 'peer vanished' })
    const again = ledger.run(assign, proposal)
    expect(again).toEqual({ ok: true, value: { fence }, replayed: true })
    expect(ledger.job('j000001').state).toBe('queued')
    expect(ledger.job('j000001').attempts).toBe(1)
  })

  it('should answer with the first results when job.start and job.finish come twice', () => {
    const ledger = ready()
    ledger.ok(submit('j000001'))
    const fence = ledger.assign('j000001', 'peer-1')
    expectReplayed(twice(ledger, { type: 'job.start', jobId: 'j000001', fence }))
    const finish: Command = { type: 'job.finish', jobId: 'j000001', fence, outcome: succeeded(500) }
    expectReplayed(twice(ledger, finish))
    expect(ledger.transfersOf('j000001').map((transfer) => transfer.kind)).toEqual([
      'escrow',
      'payment',
      'fee',
      'refund',
    ])
  })

  it('should answer with the first result when job.lost comes twice', () => {
    const ledger = ready()
    ledger.ok(submit('j000001'))
    const fence = ledger.assign('j000001', 'peer-1')
    const pair = twice(ledger, { type: 'job.lost', jobId: 'j000001', fence, reason: 'gone' })
    expectReplayed(pair)
    expect(pair.first).toEqual({ ok: true, value: { requeued: true } })
  })

  it('should answer with the first result when job.cancel comes twice', () => {
    const ledger = ready()
    ledger.ok(submit('j000001'))
    const pair = twice(ledger, { type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    expectReplayed(pair)
    expect(pair.again).toMatchObject({ value: { cancelled: true } })
  })

  it('should answer with the first result when job.expire comes twice', () => {
    const ledger = ready()
    ledger.ok(submit('j000001'))
    ledger.advance(spec().timeoutS * 1000 + 25 * 60 * 60 * 1000)
    const pair = twice(ledger, { type: 'job.expire', jobId: 'j000001' })
    expectReplayed(pair)
    expect(pair.first.ok).toBe(true)
  })

  it('should answer with the first refusal when a refused proposal comes again', () => {
    const ledger = new Ledger()
    const proposal = ledger.proposal()
    const first = ledger.run(submit('j000001'), proposal)
    expect(first.ok).toBe(false)
    ledger.open('alice')
    expect(ledger.run(submit('j000001'), proposal)).toEqual({ ...first, replayed: true })
    expect(ledger.state.jobs.size).toBe(0)
  })

  it('should refuse with UNAVAILABLE when a retry comes after the window', () => {
    const ledger = ready()
    const proposal = ledger.proposal()
    expect(ledger.run(submit('j000001'), proposal).ok).toBe(true)
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    ledger.advance(PROPOSAL_WINDOW_MS + 1)
    // Any later entry forgets what the window no longer covers.
    ledger.ok({ type: 'account.open', account: 'carol' })
    expect(ledger.state.proposals.has(proposal.id)).toBe(false)
    const error = ledger.refused(submit('j000001'), proposal)
    expect(error.name).toBe('UNAVAILABLE')
    expect(error.data).toMatchObject({ proposal: proposal.id })
  })

  it('should refuse a new proposal when it was stamped before the window', () => {
    const ledger = new Ledger()
    ledger.advance(PROPOSAL_WINDOW_MS + 1)
    const late: ProposalId = { id: 'late/1/1', proposedAt: ledger.now - PROPOSAL_WINDOW_MS - 1 }
    expect(ledger.refused({ type: 'account.open', account: 'alice' }, late).name).toBe(
      'UNAVAILABLE',
    )
    const edge: ProposalId = { id: 'late/1/2', proposedAt: ledger.now - PROPOSAL_WINDOW_MS }
    expect(ledger.run({ type: 'account.open', account: 'alice' }, edge).ok).toBe(true)
  })

  it('should stay within the bound and refuse a forgotten id when proposals flood in', () => {
    const ledger = new Ledger()
    const first = ledger.proposal()
    ledger.run({ type: 'account.open', account: 'alice' }, first)
    for (let i = 0; i < PROPOSALS_REMEMBERED_MAX + 50; i++) {
      ledger.run({ type: 'account.open', account: 'alice' })
    }
    expect(ledger.state.proposals.size).toBeLessThanOrEqual(PROPOSALS_REMEMBERED_MAX)
    expect(ledger.state.proposals.has(first.id)).toBe(false)
    // Inside the window but forgotten: refused, never applied a second time.
    expect(ledger.refused({ type: 'account.open', account: 'bob' }, first).name).toBe('UNAVAILABLE')
  })

  it('should forget proposals when log time passes the window', () => {
    const ledger = ready()
    expect(ledger.state.proposals.size).toBe(3)
    ledger.advance(PROPOSAL_WINDOW_MS + 1)
    ledger.ok({ type: 'account.open', account: 'carol' })
    expect(ledger.state.proposals.size).toBe(1)
  })

  it('should still recognise a duplicate when the state went through a snapshot', () => {
    const ledger = ready()
    const proposal = ledger.proposal()
    const first = ledger.run(submit('j000001'), proposal)
    const text = encodeState(ledger.state)
    ledger.state = decodeState(text)
    expect(encodeState(ledger.state)).toBe(text)
    expect(ledger.run(submit('j000001'), proposal)).toEqual({ ...first, replayed: true })
    expect(ledger.state.jobs.size).toBe(1)
  })

  it('should keep the refusal floor when the state went through a snapshot', () => {
    const ledger = new Ledger()
    const first = ledger.proposal()
    ledger.run({ type: 'account.open', account: 'alice' }, first)
    for (let i = 0; i < PROPOSALS_REMEMBERED_MAX; i++) {
      ledger.run({ type: 'account.open', account: 'alice' })
    }
    ledger.state = decodeState(encodeState(ledger.state))
    expect(ledger.refused({ type: 'account.open', account: 'bob' }, first).name).toBe('UNAVAILABLE')
  })
})
