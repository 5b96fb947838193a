import { describe, expect, it } from 'vitest'
import {
  decodeState,
  encodeState,
  ledgerViolations,
  restoreState,
  snapshotState,
} from '../../../ledger/state/index.ts'
import type { Command } from '../../../ledger/state/index.ts'
import { sha256Hex } from '../../../ledger/state/sha256.ts'
import { codeFailure, executorFailure, Ledger, spec, succeeded } from './ledger-fixture.ts'

/** A history that touches every part of the state: accounts, executors, all job outcomes. */
function busyLedger(): Ledger {
  const ledger = new Ledger().open('alice').open('bob').register('peer-1', 'bob')
  const a = ledger.runJob('j000001', 'alice', 'peer-1', spec({ cpus: 0.5, env: { A: '1' } }))
  ledger.advance(1_500).finish('j000001', a, succeeded(1_234))
  const b = ledger.runJob('j000002', 'bob', 'peer-1', spec({ args: ['x', 'y'] }))
  ledger.finish('j000002', b, executorFailure())
  ledger.submit('j000003', 'alice', spec())
  const c = ledger.runJob('j000004', 'alice', 'peer-1', spec())
  ledger.advance(700).finish('j000004', c, codeFailure('oom', 650))
  ledger.submit('j000005', 'alice', spec())
  ledger.ok({ type: 'job.cancel', jobId: 'j000005', by: 'alice' })
  return ledger
}

describe('snapshot', () => {
  it('should encode byte-identically when a state is encoded, decoded and encoded again', () => {
    const ledger = busyLedger()
    const text = encodeState(ledger.state)
    expect(encodeState(decodeState(text))).toBe(text)
    expect(encodeState(restoreState(snapshotState(ledger.state)))).toBe(text)
  })

  it('should encode identically when two states are fed the same entries', () => {
    expect(encodeState(busyLedger().state)).toBe(encodeState(busyLedger().state))
  })

  it('should carry on exactly like the original when a decoded state applies more entries', () => {
    const original = busyLedger()
    const restored = busyLedger()
    restored.state = decodeState(encodeState(restored.state))
    const more: Command[] = [
      { type: 'account.open', account: 'carol' },
      {
        type: 'job.submit',
        jobId: 'j000001',
        submitter: 'carol',
        idempotencyId: 'c',
        spec: spec(),
      },
      {
        type: 'job.submit',
        jobId: 'j000009',
        submitter: 'alice',
        idempotencyId: 'j000003',
        spec: spec(),
      },
      { type: 'job.assign', jobId: 'j000002', executor: 'peer-1' },
      { type: 'job.cancel', jobId: 'j000003', by: 'alice' },
      { type: 'job.cancel', jobId: 'j000003', by: 'alice' },
    ]
    for (const command of more) {
      expect(restored.run(command)).toEqual(original.run(command))
    }
    expect(encodeState(restored.state)).toBe(encodeState(original.state))
    expect(ledgerViolations(restored.state)).toEqual([])
    // Indexes rebuilt on restore still answer: the replayed submission found its first job.
    expect(restored.state.jobs.has('j000009')).toBe(false)
  })

  it('should restore a version 1 snapshot when it kept code in every spec', () => {
    const ledger = busyLedger()
    const current = snapshotState(ledger.state)
    const v1 = {
      ...current,
      version: 1,
      sessions: undefined,
      jobs: current.jobs.map((job) => ({
        ...job,
        code: undefined,
        codeBytes: undefined,
        codeSha256: undefined,
        spec: { ...job.spec, code: 'print(1)' },
      })),
    }
    const restored = decodeState(JSON.stringify(v1))
    expect(ledgerViolations(restored)).toEqual([])
    expect(restored.sessions.size).toBe(0)
    expect(restored.jobs.get('j000003')).toMatchObject({ state: 'queued', code: 'print(1)' })
    expect(restored.jobs.get('j000001')).toMatchObject({
      state: 'succeeded',
      code: null,
      codeBytes: 8,
      codeSha256: sha256Hex('print(1)'),
    })
  })

  it('should restore a version 2 snapshot without its proposal table when ids had no session', () => {
    const ledger = busyLedger()
    const v2 = {
      ...snapshotState(ledger.state),
      sessions: undefined,
      version: 2,
      proposals: [['peer/1/1', { proposedAt: 1, result: { ok: true, value: null } }]],
      proposalFloor: 0,
    }
    const restored = decodeState(JSON.stringify(v2))
    expect(ledgerViolations(restored)).toEqual([])
    expect(restored.sessions.size).toBe(0)
    const encoded = JSON.parse(encodeState(restored)) as Record<string, unknown>
    expect(encoded).toMatchObject({ version: 4, sessions: [], mesh: null, peers: [] })
    expect(encoded).not.toHaveProperty('proposals')
    expect(restored.jobs.size).toBe(ledger.state.jobs.size)
  })

  it('should differ when one balance differs', () => {
    const ledger = busyLedger()
    const other = decodeState(encodeState(ledger.state))
    const account = other.accounts.get('bob')
    if (account === undefined) throw new Error('no bob')
    account.balanceMc += 1
    expect(encodeState(other)).not.toBe(encodeState(ledger.state))
  })
})
