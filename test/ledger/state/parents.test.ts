import { describe, expect, it } from 'vitest'
import { SHARD_RETRIES_MAX } from '../../../protocol/index.ts'
import type { JobFile, JobSpec } from '../../../protocol/index.ts'
import {
  decodeState,
  encodeState,
  ledgerViolations,
  parentView,
  stateHash,
} from '../../../ledger/state/index.ts'
import type { RunOutcome } from '../../../ledger/state/index.ts'
import { cheapSpec, codeFailure, Ledger, runResult, succeeded } from './ledger-fixture.ts'
import { runTo, twoExecutorMesh as mesh } from '../../fixtures/parent-ledger.ts'

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
/** The minimum price: what one cheap child escrows. */
const ONE_MC = 1000

function shardInputs(count: number): JobFile[][] {
  return Array.from({ length: count }, (_, at) => [{ name: 'shard', cid: CID, size: at + 1 }])
}

function submit(ledger: Ledger, shards: number, reduce: boolean, spec: JobSpec = cheapSpec()) {
  return ledger.run({
    type: 'parent.submit',
    parentId: 'jparent1',
    submitter: 'alice',
    idempotencyId: 'sharded-1',
    spec,
    shards: shardInputs(shards),
    reduceCode: reduce ? 'print("reduce")' : null,
  })
}

function withOutputs(index: number): RunOutcome {
  const outputs = [{ name: 'part.json', cid: CID, size: 10 + index }]
  return {
    state: 'succeeded',
    cause: null,
    result: runResult({ wallMs: 500, outputs }),
    error: null,
  }
}

function parent(ledger: Ledger) {
  return parentView(ledger.state, ledger.state.parents.get('jparent1')!)
}

describe('parent.submit', () => {
  it('should queue one map job per shard with its shard as inputs when submitted', () => {
    const ledger = mesh()
    expect(submit(ledger, 3, true)).toEqual({
      ok: true,
      value: { parentId: 'jparent1', created: true },
    })
    expect(ledger.state.queue).toEqual(['jparent1s0', 'jparent1s1', 'jparent1s2'])
    expect(ledger.job('jparent1s1').spec.inputs).toEqual(shardInputs(3)[1])
    expect(ledger.job('jparent1s1').parent).toEqual({ id: 'jparent1', shard: 1 })
    expect(parent(ledger)).toMatchObject({ state: 'running', shardsDone: 0, reduce: null })
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should escrow every map, every retry and the reduce when submitted', () => {
    const ledger = mesh()
    submit(ledger, 3, true)
    const whole = ONE_MC * (3 * (1 + SHARD_RETRIES_MAX) + 1)
    expect(parent(ledger).maxPriceMc).toBe(whole)
    expect(ledger.balance('alice')).toBe(100_000 - whole)
    expect(ledger.balance('escrow')).toBe(whole)
    expect(ledger.state.accounts.get('alice')?.escrowedMc).toBe(whole)
  })

  it('should refuse and change nothing when the whole run cannot be escrowed', () => {
    const ledger = mesh()
    const error = ledger.refused({
      type: 'parent.submit',
      parentId: 'jparent1',
      submitter: 'alice',
      idempotencyId: 'sharded-1',
      spec: cheapSpec(),
      shards: shardInputs(34),
      reduceCode: null,
    })
    expect(error.name).toBe('INSUFFICIENT_FUNDS')
  })

  it('should return the first parent and create nothing when its id is replayed', () => {
    const ledger = mesh()
    submit(ledger, 2, false)
    const again = ledger.run({
      type: 'parent.submit',
      parentId: 'jparent2',
      submitter: 'alice',
      idempotencyId: 'sharded-1',
      spec: cheapSpec(),
      shards: shardInputs(2),
      reduceCode: null,
    })
    expect(again).toEqual({ ok: true, value: { parentId: 'jparent1', created: false } })
    expect(ledger.state.parents.size).toBe(1)
  })
})

describe('a parent with a reduce', () => {
  it('should start the reduce over every map output only when the last map succeeded', () => {
    const ledger = mesh()
    submit(ledger, 3, true)
    runTo(ledger, 'jparent1s0', 'peer-1', withOutputs(0))
    runTo(ledger, 'jparent1s2', 'peer-2', withOutputs(2))
    expect(parent(ledger)).toMatchObject({ shardsDone: 2, reduce: null, state: 'running' })
    runTo(ledger, 'jparent1s1', 'peer-1', withOutputs(1))
    expect(parent(ledger).reduce).toBe('jparent1r')
    expect(ledger.job('jparent1r').spec.inputs?.map((file) => [file.name, file.size])).toEqual([
      ['0/part.json', 10],
      ['1/part.json', 11],
      ['2/part.json', 12],
    ])
    expect(ledger.state.queue).toEqual(['jparent1r'])
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should succeed, cost the sum of its children and refund the rest when reduced', () => {
    const ledger = mesh()
    submit(ledger, 2, true)
    runTo(ledger, 'jparent1s0', 'peer-1', withOutputs(0))
    runTo(ledger, 'jparent1s1', 'peer-2', withOutputs(1))
    runTo(ledger, 'jparent1r', 'peer-1', succeeded(100))
    const view = parent(ledger)
    expect(view.state).toBe('succeeded')
    expect(view.costMc).toBe(3 * ONE_MC)
    expect(ledger.balance('alice')).toBe(100_000 - 3 * ONE_MC)
    expect(ledger.balance('escrow')).toBe(0)
    expect(ledger.state.accounts.get('alice')?.escrowedMc).toBe(0)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should fail with the reason when the reduce fails', () => {
    const ledger = mesh()
    submit(ledger, 1, true)
    runTo(ledger, 'jparent1s0', 'peer-1', withOutputs(0))
    runTo(ledger, 'jparent1r', 'peer-1', codeFailure('exit', 100))
    expect(parent(ledger)).toMatchObject({ state: 'failed', reason: /reduce jparent1r failed/ })
    expect(ledger.balance('escrow')).toBe(0)
  })
})

describe('a failed shard', () => {
  it('should be retried as a new map job, paid from the reservation, when its code failed', () => {
    const ledger = mesh()
    submit(ledger, 2, false)
    runTo(ledger, 'jparent1s0', 'peer-1', codeFailure('exit', 100))
    expect(ledger.state.queue).toEqual(['jparent1s1', 'jparent1s0r1'])
    expect(ledger.job('jparent1s0r1').escrowHeld).toBe(true)
    expect(parent(ledger).shards[0]).toMatchObject({ jobs: ['jparent1s0', 'jparent1s0r1'] })
    runTo(ledger, 'jparent1s0r1', 'peer-2', succeeded(100))
    runTo(ledger, 'jparent1s1', 'peer-1', succeeded(100))
    expect(parent(ledger)).toMatchObject({ state: 'succeeded', shardsDone: 2, costMc: 3 * ONE_MC })
    expect(ledger.balance('alice')).toBe(100_000 - 3 * ONE_MC)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should fail the parent and cancel the other shards when it fails past its retries', () => {
    const ledger = mesh()
    submit(ledger, 2, true)
    let id = 'jparent1s0'
    for (let run = 0; run <= SHARD_RETRIES_MAX; run++) {
      runTo(ledger, id, run % 2 === 0 ? 'peer-1' : 'peer-2', codeFailure('exit', 100))
      id = `jparent1s0r${run + 1}`
    }
    expect(ledger.state.jobs.has(id)).toBe(false)
    const view = parent(ledger)
    expect(view).toMatchObject({ state: 'failed', reason: /shard 0 failed.*gave up after 3 runs/ })
    expect(ledger.job('jparent1s1').state).toBe('cancelled')
    expect(ledger.state.queue).toEqual([])
    expect(view.costMc).toBe((1 + SHARD_RETRIES_MAX) * ONE_MC)
    expect(ledger.balance('alice')).toBe(100_000 - view.costMc)
    expect(ledger.balance('escrow')).toBe(0)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })
})

describe('parent.cancel', () => {
  it('should cancel every open child and refund the unused when the submitter cancels', () => {
    const ledger = mesh()
    submit(ledger, 3, true)
    runTo(ledger, 'jparent1s0', 'peer-1', succeeded(100))
    const fence = ledger.assign('jparent1s1', 'peer-2')
    ledger.ok({ type: 'job.start', jobId: 'jparent1s1', fence })
    ledger.advance(400)
    expect(ledger.ok({ type: 'parent.cancel', parentId: 'jparent1', by: 'alice' })).toEqual({
      cancelled: true,
    })
    expect(ledger.job('jparent1s1').state).toBe('cancelled')
    expect(ledger.job('jparent1s2').state).toBe('cancelled')
    expect(parent(ledger).state).toBe('cancelled')
    // The entry names only the parent; the children it ended are its changed jobs.
    expect([...ledger.state.changedJobs].sort()).toEqual(['jparent1s1', 'jparent1s2'])
    // The finished map and the running one (for its 400 ms) are paid; the rest comes back.
    expect(ledger.balance('alice')).toBe(100_000 - 2 * ONE_MC)
    expect(ledger.balance('escrow')).toBe(0)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should not let another account cancel it', () => {
    const ledger = mesh()
    submit(ledger, 1, false)
    expect(ledger.refused({ type: 'parent.cancel', parentId: 'jparent1', by: 'bob' }).name).toBe(
      'NOT_FOUND',
    )
    // A refused entry changed nothing, and the jobs the one before created are not its.
    expect(ledger.state.changedJobs.size).toBe(0)
  })

  it('should cancel the parent when one of its children is cancelled on its own', () => {
    const ledger = mesh()
    submit(ledger, 2, false)
    ledger.ok({ type: 'job.cancel', jobId: 'jparent1s1', by: 'alice' })
    expect(parent(ledger).state).toBe('cancelled')
    expect(ledger.job('jparent1s0').state).toBe('cancelled')
    expect(ledger.balance('alice')).toBe(100_000)
  })
})

describe('a parent in a snapshot', () => {
  it('should decode to the same state hash when the state is restored from its encoding', () => {
    const ledger = mesh()
    submit(ledger, 2, true)
    runTo(ledger, 'jparent1s0', 'peer-1', withOutputs(0))
    const restored = decodeState(encodeState(ledger.state))
    expect(stateHash(restored)).toBe(stateHash(ledger.state))
    expect(restored.parents.get('jparent1')).toEqual(ledger.state.parents.get('jparent1'))
  })
})
