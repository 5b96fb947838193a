import { describe, expect, it } from 'vitest'
import { historyView, jobsByState, jobView, listJobs } from '../../../ledger/state/index.ts'
import { Ledger, spec, succeeded } from './ledger-fixture.ts'

function mesh(): Ledger {
  return new Ledger().open('alice').open('bob').register('peer-1', 'bob')
}

describe('historyView', () => {
  it('should list transfers newest first with their jobs when the account has a history', () => {
    const ledger = mesh()
    const fence = ledger.runJob('j000001', 'alice', 'peer-1', spec())
    ledger.finish('j000001', fence, succeeded(1000))
    const history = historyView(ledger.state, 'alice', { limit: 50 })
    expect(history.map((transfer) => [transfer.kind, transfer.jobId])).toEqual([
      ['refund', 'j000001'],
      ['escrow', 'j000001'],
      ['grant', null],
    ])
    expect(historyView(ledger.state, 'bob', { limit: 50 }).map((t) => t.kind)).toEqual([
      'payment',
      'grant',
    ])
    expect(historyView(ledger.state, 'nobody', { limit: 50 })).toEqual([])
  })

  it('should return only transfers before the given log index when paging by before', () => {
    const ledger = mesh()
    for (let i = 1; i <= 5; i++) ledger.submit(`j00000${i}`, 'alice', spec({ timeoutS: 1 }))
    const all = historyView(ledger.state, 'alice', { limit: 50 })
    expect(all).toHaveLength(6)
    const first = historyView(ledger.state, 'alice', { limit: 2 })
    expect(first.map((t) => t.jobId)).toEqual(['j000005', 'j000004'])
    const second = historyView(ledger.state, 'alice', {
      limit: 2,
      before: first.at(-1)?.index,
    })
    expect(second.map((t) => t.jobId)).toEqual(['j000003', 'j000002'])
    for (const transfer of second) expect(transfer.index).toBeLessThan(first[1]?.index ?? 0)
  })

  it('should lose no transfer when a page ends inside one log index', () => {
    // Settlement posts several transfers at one index; with its own executor the submitter
    // receives two of them (payment and refund) at the same index.
    const ledger = mesh().register('peer-a', 'alice')
    for (let i = 1; i <= 3; i++) {
      const fence = ledger.runJob(`j00000${i}`, 'alice', 'peer-a', spec())
      ledger.finish(`j00000${i}`, fence, succeeded(1000))
    }
    const all = historyView(ledger.state, 'alice', { limit: 500 })
    for (const limit of [1, 2, 3, 4]) {
      const paged = []
      let before: number | undefined
      for (let pages = 0; pages < all.length; pages++) {
        const page = historyView(ledger.state, 'alice', { limit, before })
        if (page.length === 0) break
        paged.push(...page)
        before = page.at(-1)?.index
      }
      expect(paged.map((t) => t.id)).toEqual(all.map((t) => t.id))
    }
  })
})

describe('listJobs', () => {
  function withJobs(): Ledger {
    const ledger = mesh()
    for (let i = 1; i <= 6; i++) ledger.submit(`j00000${i}`, 'alice', spec({ timeoutS: 1 }))
    ledger.submit('j000007', 'bob', spec({ timeoutS: 1 }))
    ledger.ok({ type: 'job.cancel', jobId: 'j000002', by: 'alice' })
    ledger.ok({ type: 'job.cancel', jobId: 'j000005', by: 'alice' })
    return ledger
  }

  it('should list only the submitter’s jobs newest first when asked', () => {
    const ids = listJobs(withJobs().state, 'alice', { limit: 50 }).map((job) => job.id)
    expect(ids).toEqual(['j000006', 'j000005', 'j000004', 'j000003', 'j000002', 'j000001'])
  })

  it('should page by before when a limit is given', () => {
    const ledger = withJobs()
    const first = listJobs(ledger.state, 'alice', { limit: 4 }).map((job) => job.id)
    expect(first).toEqual(['j000006', 'j000005', 'j000004', 'j000003'])
    const second = listJobs(ledger.state, 'alice', { limit: 4, before: 'j000003' })
    expect(second.map((job) => job.id)).toEqual(['j000002', 'j000001'])
    expect(listJobs(ledger.state, 'alice', { limit: 4, before: 'j000001' })).toEqual([])
  })

  it('should filter by state and page by before when both are given', () => {
    const ledger = withJobs()
    const queued = listJobs(ledger.state, 'alice', { state: 'queued', limit: 2 })
    expect(queued.map((job) => job.id)).toEqual(['j000006', 'j000004'])
    const next = listJobs(ledger.state, 'alice', { state: 'queued', limit: 2, before: 'j000004' })
    expect(next.map((job) => job.id)).toEqual(['j000003', 'j000001'])
    const cancelled = listJobs(ledger.state, 'alice', { state: 'cancelled', limit: 50 })
    expect(cancelled.map((job) => job.id)).toEqual(['j000005', 'j000002'])
  })
})

describe('jobView and jobsByState', () => {
  it('should show the code size instead of the code when a job is viewed', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec({ code: 'print("é")' }))
    const view = jobView(ledger.job('j000001'))
    expect(view.spec).not.toHaveProperty('code')
    expect(view.spec.codeBytes).toBe(11)
    expect(view).toMatchObject({ id: 'j000001', runtime: 'python', state: 'queued', priceMc: null })
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    expect(jobView(ledger.job('j000001')).spec.codeBytes).toBe(11)
  })

  it('should count jobs in every state when asked', () => {
    const ledger = mesh()
    ledger.submit('j000001', 'alice', spec({ timeoutS: 1 }))
    ledger.submit('j000002', 'alice', spec({ timeoutS: 1 }))
    ledger.runJob('j000003', 'alice', 'peer-1', spec({ timeoutS: 1 }))
    ledger.ok({ type: 'job.cancel', jobId: 'j000001', by: 'alice' })
    expect(jobsByState(ledger.state)).toMatchObject({
      queued: 1,
      running: 1,
      cancelled: 1,
      succeeded: 0,
    })
  })
})
