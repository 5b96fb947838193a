// At most once (Raft thesis section 6.3): every entry names its proposer session and sequence.
// A proposal delivered again (a duplicated forward, a retry after a lost answer) gets its first
// result back, or "already applied" once its proposer acknowledged it, and changes nothing.
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_POLICY,
  SESSION_IDLE_MS,
  SESSION_PROPOSALS_IN_FLIGHT_MAX,
  SESSIONS_MAX,
} from '../../../protocol/index.ts'
import { decodeState, encodeState } from '../../../ledger/state/index.ts'
import type { ApplyResult, Command, ProposalId } from '../../../ledger/state/index.ts'
import { encodeAfterNoop, Ledger, spec, succeeded, withoutProposals } from './ledger-fixture.ts'

/** Applies `command` under a fresh id, then the very same proposal again: the second time it
 * must answer with the first result and change nothing but the index and log time. */
function twice(ledger: Ledger, command: Command): { first: ApplyResult; again: ApplyResult } {
  const proposal = ledger.proposal()
  const first = ledger.run(command, proposal)
  ledger.advance(1_000)
  const expected = encodeAfterNoop(ledger.state, ledger.state.appliedIndex + 1, ledger.now)
  const again = ledger.run(command, proposal)
  // Only the session table may differ: the duplicate shows its session is still active.
  expect(withoutProposals(encodeState(ledger.state)), `${command.type} applied twice`).toBe(
    withoutProposals(expected),
  )
  return { first, again }
}

function expectReplayed(pair: { first: ApplyResult; again: ApplyResult }): void {
  expect(pair.again).toEqual({ ...pair.first, replayed: true })
}

function expectAlreadyApplied(result: ApplyResult): void {
  expect(result).toMatchObject({
    ok: false,
    replayed: true,
    error: { name: 'CONFLICT', data: { reason: 'already-applied' } },
  })
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

const openAlice: Command = { type: 'account.open', account: 'alice' }

function id(session: string, sequence: number, acknowledged: number, at: number): ProposalId {
  return { session, sequence, acknowledged, proposedAt: at }
}

describe('proposal ids', () => {
  it('should answer with the first result and change nothing when account.open comes twice', () => {
    expectReplayed(twice(new Ledger(), openAlice))
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
    expectAlreadyApplied(ledger.run(assign, proposal))
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

  it('should answer already applied and change nothing when an acknowledged id comes again', () => {
    const ledger = new Ledger()
    const proposal = ledger.proposal()
    expect(ledger.run(submit('j000001'), proposal).ok).toBe(false)
    ledger.open('alice')
    // The open acknowledged the refused submit: its result is gone, its id is not forgotten.
    expect(ledger.state.sessions.get('test/1')?.floor).toBe(proposal.sequence)
    const expected = encodeAfterNoop(ledger.state, ledger.state.appliedIndex + 1, ledger.now)
    expectAlreadyApplied(ledger.run(submit('j000001'), proposal))
    expect(encodeState(ledger.state)).toBe(expected)
    expect(ledger.state.jobs.size).toBe(0)
  })

  it('should answer already applied when a duplicate arrives after the proposer moved on', () => {
    const ledger = ready()
    const first = ledger.proposal()
    expect(ledger.run(submit('j000001'), first).ok).toBe(true)
    for (let i = 0; i < 100; i++) ledger.ok(openAlice)
    ledger.advance(SESSION_IDLE_MS / 2)
    ledger.ok(openAlice)
    expectAlreadyApplied(ledger.run(submit('j000001'), first))
    expect(ledger.state.jobs.size).toBe(1)
  })

  it('should start a session when its first proposal has sequence 1', () => {
    const ledger = new Ledger()
    expect(ledger.run(openAlice, id('peer-a/1', 1, 0, ledger.now)).ok).toBe(true)
    expect(ledger.state.sessions.get('peer-a/1')).toEqual({
      floor: 0,
      results: new Map([[1, { ok: true, value: { created: true } }]]),
      activeAt: ledger.now,
    })
  })

  it('should refuse and remember nothing when an unknown session proposes past sequence 1', () => {
    const ledger = new Ledger()
    const error = ledger.refused(openAlice, id('peer-a/1', 2, 1, ledger.now))
    expect(error).toMatchObject({ name: 'UNAVAILABLE', data: { reason: 'unknown-session' } })
    expect(ledger.state.sessions.has('peer-a/1')).toBe(false)
    expect(ledger.state.accounts.has('alice')).toBe(false)
  })

  it('should forget a session when it stays silent past the idle limit', () => {
    const ledger = new Ledger()
    ledger.run(openAlice, id('quiet/1', 1, 0, ledger.now))
    ledger.advance(SESSION_IDLE_MS)
    ledger.open('bob')
    expect(ledger.state.sessions.has('quiet/1')).toBe(true)
    ledger.advance(1)
    ledger.open('carol')
    expect(ledger.state.sessions.has('quiet/1')).toBe(false)
    expect(ledger.state.sessions.size).toBe(1)
  })

  it('should refuse a retry when its session expired, even a retry of its first proposal', () => {
    const ledger = ready()
    const start = ledger.now
    expect(ledger.run(submit('j000001'), id('late/1', 1, 0, start)).ok).toBe(true)
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    const second = id('late/1', 2, 1, start)
    ledger.advance(SESSION_IDLE_MS + 1)
    expect(ledger.refused(submit('j000002'), second)).toMatchObject({
      name: 'UNAVAILABLE',
      data: { reason: 'unknown-session' },
    })
    // The first proposal again would open the session anew: its stamp is too old for that.
    expect(ledger.refused(submit('j000001'), id('late/1', 1, 0, start))).toMatchObject({
      name: 'UNAVAILABLE',
      data: { reason: 'stale-session' },
    })
    expect(ledger.state.jobs.size).toBe(1)
    expect(ledger.job('j000001').state).toBe('cancelled')
  })

  it('should refuse a proposal beyond the in-flight window and apply it once acknowledged', () => {
    const ledger = new Ledger()
    ledger.run(openAlice, id('busy/1', 1, 0, ledger.now))
    const far = id('busy/1', SESSION_PROPOSALS_IN_FLIGHT_MAX + 1, 0, ledger.now)
    expect(ledger.refused({ type: 'account.open', account: 'bob' }, far)).toMatchObject({
      name: 'UNAVAILABLE',
      data: { reason: 'beyond-window' },
    })
    expect(ledger.state.sessions.get('busy/1')?.results.size).toBe(1)
    ledger.run(openAlice, id('busy/1', 2, 1, ledger.now))
    expect(ledger.run({ type: 'account.open', account: 'bob' }, far)).toMatchObject({ ok: true })
  })

  it('should never raise the floor past the sequence when a proposal over-acknowledges', () => {
    const ledger = new Ledger()
    ledger.run(openAlice, id('eager/1', 1, 50, ledger.now))
    expect(ledger.state.sessions.get('eager/1')?.floor).toBe(0)
    expect(ledger.run(openAlice, id('eager/1', 2, 50, ledger.now)).ok).toBe(true)
    expect(ledger.state.sessions.get('eager/1')?.floor).toBe(1)
  })

  it('should refuse a new session when the table holds the most sessions', () => {
    const ledger = new Ledger()
    for (let i = 0; i < SESSIONS_MAX; i++) ledger.run(openAlice, id(`s${i}`, 1, 0, ledger.now))
    expect(ledger.state.sessions.size).toBe(SESSIONS_MAX)
    const error = ledger.refused(openAlice, id('one-more', 1, 0, ledger.now))
    expect(error).toMatchObject({ name: 'UNAVAILABLE', data: { reason: 'too-many-sessions' } })
    expect(ledger.state.sessions.size).toBe(SESSIONS_MAX)
  })

  it('should keep duplicates and the floor recognised when the state went through a snapshot', () => {
    const ledger = ready()
    const acknowledged = ledger.proposal()
    ledger.run(submit('j000001'), acknowledged)
    const proposal = ledger.proposal()
    const first = ledger.run(submit('j000002'), proposal)
    const text = encodeState(ledger.state)
    ledger.state = decodeState(text)
    expect(encodeState(ledger.state)).toBe(text)
    expect(ledger.run(submit('j000002'), proposal)).toEqual({ ...first, replayed: true })
    expectAlreadyApplied(ledger.run(submit('j000001'), acknowledged))
    expect(ledger.state.jobs.size).toBe(2)
  })

  it('should not forget a live id nor refuse valid work when 2,000 proposals/s run 10 minutes', () => {
    const ledger = new Ledger()
    const proposers = ['a/1', 'b/1', 'c/1', 'd/1']
    const inFlight = 400
    const perMs = 2
    const sequences = new Map(proposers.map((session) => [session, 0]))
    let refused = 0
    let largestResults = 0
    for (let ms = 0; ms < 10 * 60 * 1000; ms++) {
      ledger.advance(1)
      for (let k = 0; k < perMs; k++) {
        const session = proposers[(ms * perMs + k) % proposers.length] as string
        const sequence = (sequences.get(session) as number) + 1
        sequences.set(session, sequence)
        const acknowledged = Math.max(0, sequence - inFlight)
        if (!ledger.run(openAlice, id(session, sequence, acknowledged, ledger.now)).ok) refused++
        // A duplicate of a proposal still in flight gets its first result back.
        const echo = Math.max(1, sequence - inFlight + 1)
        const again = ledger.run(openAlice, id(session, echo, acknowledged, ledger.now))
        if (again.replayed !== true || !again.ok) refused++
        largestResults = Math.max(
          largestResults,
          ledger.state.sessions.get(session)?.results.size ?? 0,
        )
      }
    }
    expect(refused).toBe(0)
    expect(ledger.state.sessions.size).toBe(proposers.length)
    expect(largestResults).toBeLessThanOrEqual(inFlight)
    // What stays is the results in flight: about 70 bytes each in a snapshot.
    expect(encodeState(ledger.state).length).toBeLessThan(proposers.length * inFlight * 100)
  }, 60_000)
})
