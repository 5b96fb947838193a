import { describe, expect, it } from 'vitest'
import { SHARD_RETRIES_MAX } from '../../../protocol/index.ts'
import type { JobFile } from '../../../protocol/index.ts'
import {
  decodeState,
  encodeState,
  ledgerViolations,
  parentView,
  stateHash,
} from '../../../ledger/state/index.ts'
import type { Command, RunOutcome } from '../../../ledger/state/index.ts'
import { cheapSpec, codeFailure, Ledger, runResult } from './ledger-fixture.ts'
import { runTo, twoExecutorMesh as mesh } from '../../fixtures/parent-ledger.ts'

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
/** The minimum price: what one cheap child escrows. */
const ONE_MC = 1000
const GRANT_MC = 100_000

type Submit = Extract<Command, { type: 'training.submit' }>

function command(overrides: Partial<Submit> = {}): Submit {
  const shards = 2
  return {
    type: 'training.submit',
    parentId: 'jtrain1',
    submitter: 'alice',
    idempotencyId: 'train-1',
    spec: cheapSpec('print("train")'),
    shards: Array.from({ length: shards }, (_, at) => [{ name: 'shard', cid: CID, size: at + 1 }]),
    aggregateCode: 'print("aggregate")',
    rounds: 2,
    minShards: shards,
    roundTimeoutS: 30,
    aggregate: 'fedavg',
    samples: [60, 40],
    ...overrides,
  }
}

function trained(shard: number, stdoutTail = ''): RunOutcome {
  const outputs: JobFile[] = [
    { name: 'weights.npz', cid: CID, size: 100 + shard },
    { name: 'samples.json', cid: CID, size: 16 },
    { name: 'notes.txt', cid: CID, size: 3 },
  ]
  return {
    state: 'succeeded',
    cause: null,
    result: runResult({ wallMs: 500, outputs, stdoutTail }),
    error: null,
  }
}

function aggregated(round: number): RunOutcome {
  const outputs: JobFile[] = [
    { name: 'global/weights.npz', cid: CID, size: 200 + round },
    { name: 'aggregate.json', cid: CID, size: 50 },
  ]
  return {
    state: 'succeeded',
    cause: null,
    result: runResult({ wallMs: 200, outputs }),
    error: null,
  }
}

function view(ledger: Ledger) {
  return parentView(ledger.state, ledger.state.parents.get('jtrain1')!)
}

function settledSum(ledger: Ledger): number {
  let sum = 0
  for (const job of ledger.state.jobs.values()) sum += job.priceMc ?? 0
  return sum
}

describe('training.submit', () => {
  it('should queue one train job per shard with its round and shard in env when submitted', () => {
    const ledger = mesh()
    expect(ledger.run(command())).toEqual({
      ok: true,
      value: { parentId: 'jtrain1', created: true },
    })
    expect(ledger.state.queue).toEqual(['jtrain1t1s0', 'jtrain1t1s1'])
    const job = ledger.job('jtrain1t1s1')
    expect(job.spec.env).toEqual({
      GRIDX_ROUND: '1',
      GRIDX_ROUNDS: '2',
      GRIDX_SHARD: '1',
      GRIDX_SHARDS: '2',
    })
    expect(job.spec.inputs).toEqual([{ name: 'shard', cid: CID, size: 2 }])
    expect(job.parent).toEqual({ id: 'jtrain1', shard: 1 })
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should escrow every round, shard, retry and aggregate when submitted', () => {
    const ledger = mesh()
    ledger.ok(command({ rounds: 3 }))
    const whole = ONE_MC * 3 * (2 * (1 + SHARD_RETRIES_MAX) + 1)
    expect(view(ledger).maxPriceMc).toBe(whole)
    expect(ledger.balance('alice')).toBe(GRANT_MC - whole)
    expect(ledger.state.accounts.get('alice')?.escrowedMc).toBe(whole)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should refuse and change nothing when its rounds, minShards or env are out of bounds', () => {
    const ledger = mesh()
    expect(ledger.refused(command({ rounds: 0 })).name).toBe('INVALID_PARAMS')
    expect(ledger.refused(command({ minShards: 3 })).name).toBe('INVALID_PARAMS')
    expect(ledger.refused(command({ roundTimeoutS: 0 })).name).toBe('INVALID_PARAMS')
    expect(ledger.refused(command({ samples: [1] })).name).toBe('INVALID_PARAMS')
    const env = Object.fromEntries(Array.from({ length: 64 }, (_, at) => [`V${at}`, 'x']))
    const crowded = { ...cheapSpec(), env }
    expect(ledger.refused(command({ spec: crowded })).name).toBe('INVALID_PARAMS')
  })

  it('should refuse and change nothing when the whole run cannot be escrowed', () => {
    const ledger = mesh()
    expect(ledger.refused(command({ rounds: 100 })).name).toBe('INSUFFICIENT_FUNDS')
  })

  it('should return the first parent and create nothing when its id is replayed', () => {
    const ledger = mesh()
    ledger.ok(command())
    const again = ledger.run(command({ parentId: 'jtrain2' }))
    expect(again).toEqual({ ok: true, value: { parentId: 'jtrain1', created: false } })
    expect(ledger.state.parents.size).toBe(1)
  })
})

describe('a training round', () => {
  it('should aggregate the weights and samples of every shard when all are in', () => {
    const ledger = mesh()
    ledger.ok(command())
    runTo(ledger, 'jtrain1t1s0', 'peer-1', trained(0))
    expect(view(ledger).training?.history[0]?.state).toBe('running')
    runTo(ledger, 'jtrain1t1s1', 'peer-2', trained(1))
    const aggregate = ledger.job('jtrain1t1a')
    expect(aggregate.spec.inputs?.map((file) => file.name)).toEqual([
      '0/weights.npz',
      '0/samples.json',
      '1/weights.npz',
      '1/samples.json',
    ])
    expect(aggregate.spec.env).toEqual({
      GRIDX_AGGREGATE: 'fedavg',
      GRIDX_TRIM_FRACTION: '0.2',
      GRIDX_ROUND: '1',
      GRIDX_ROUND_METRICS: '{}',
    })
    expect(ledger.state.queue).toEqual(['jtrain1t1a'])
    expect(view(ledger).training?.history[0]).toMatchObject({
      state: 'aggregating',
      aggregateJob: 'jtrain1t1a',
    })
  })

  it('should hand the aggregate the round metrics the view shows when the shards print some', () => {
    const ledger = mesh()
    ledger.ok(command())
    runTo(ledger, 'jtrain1t1s0', 'peer-1', trained(0, '{"metric": "accuracy", "value": 0.8}\n'))
    runTo(ledger, 'jtrain1t1s1', 'peer-2', trained(1, '{"metric": "accuracy", "value": 0.6}\n'))
    const env = ledger.job('jtrain1t1a').spec.env ?? {}
    const shown = view(ledger).training?.history[0]?.metrics
    expect(shown?.accuracy).toBeGreaterThan(0.6)
    expect(JSON.parse(env.GRIDX_ROUND_METRICS ?? 'null')).toEqual(shown)
  })

  it('should start the next round from the global model when the aggregate succeeds', () => {
    const ledger = mesh()
    ledger.ok(command())
    runTo(ledger, 'jtrain1t1s0', 'peer-1', trained(0))
    runTo(ledger, 'jtrain1t1s1', 'peer-2', trained(1))
    runTo(ledger, 'jtrain1t1a', 'peer-1', aggregated(1))
    expect(ledger.state.queue).toEqual(['jtrain1t2s0', 'jtrain1t2s1'])
    expect(ledger.job('jtrain1t2s0').spec.inputs).toEqual([
      { name: 'shard', cid: CID, size: 1 },
      { name: 'global/weights.npz', cid: CID, size: 201 },
    ])
    expect(ledger.job('jtrain1t2s0').spec.env?.GRIDX_ROUND).toBe('2')
    expect(view(ledger).training).toMatchObject({ round: 2, model: null })
  })

  it('should succeed with the last model and refund the rest when the last round ends', () => {
    const ledger = mesh()
    ledger.ok(command())
    for (const round of [1, 2]) {
      runTo(ledger, `jtrain1t${round}s0`, 'peer-1', trained(0))
      runTo(ledger, `jtrain1t${round}s1`, 'peer-2', trained(1))
      runTo(ledger, `jtrain1t${round}a`, 'peer-1', aggregated(round))
    }
    const done = view(ledger)
    expect(done.state).toBe('succeeded')
    expect(done.training?.model).toEqual([{ name: 'global/weights.npz', cid: CID, size: 202 }])
    expect(done.training?.history.map((round) => round.state)).toEqual(['done', 'done'])
    expect(done.costMc).toBe(6 * ONE_MC)
    expect(ledger.balance('alice')).toBe(GRANT_MC - settledSum(ledger))
    expect(ledger.balance('escrow')).toBe(0)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should retry a failed shard within the round and close it when the retry succeeds', () => {
    const ledger = mesh()
    ledger.ok(command())
    runTo(ledger, 'jtrain1t1s0', 'peer-1', codeFailure('exit', 100))
    expect(ledger.state.queue).toEqual(['jtrain1t1s1', 'jtrain1t1s0r1'])
    runTo(ledger, 'jtrain1t1s1', 'peer-2', trained(1))
    runTo(ledger, 'jtrain1t1s0r1', 'peer-2', trained(0))
    expect(view(ledger).training?.history[0]?.shards[0]).toMatchObject({
      job: 'jtrain1t1s0r1',
      state: 'succeeded',
    })
    expect(ledger.job('jtrain1t1a').state).toBe('queued')
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should close with the rest when a shard gives up and minShards still succeed', () => {
    const ledger = mesh()
    ledger.ok(command({ minShards: 1 }))
    runTo(ledger, 'jtrain1t1s1', 'peer-2', trained(1))
    for (const id of ['jtrain1t1s0', 'jtrain1t1s0r1', 'jtrain1t1s0r2']) {
      runTo(ledger, id, 'peer-1', codeFailure('exit', 100))
    }
    expect(ledger.job('jtrain1t1a').spec.inputs?.map((file) => file.name)).toEqual([
      '1/weights.npz',
      '1/samples.json',
    ])
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should fail the parent when too few shards can still succeed', () => {
    const ledger = mesh()
    ledger.ok(command())
    for (const id of ['jtrain1t1s0', 'jtrain1t1s0r1', 'jtrain1t1s0r2']) {
      runTo(ledger, id, 'peer-1', codeFailure('exit', 100))
    }
    const failed = view(ledger)
    expect(failed.state).toBe('failed')
    expect(failed.reason).toContain('round 1: 0 of 2 shards succeeded')
    expect(failed.training?.history[0]?.state).toBe('failed')
    expect(ledger.job('jtrain1t1s1').state).toBe('cancelled')
    expect(ledger.balance('escrow')).toBe(0)
    expect(ledger.balance('alice')).toBe(GRANT_MC - settledSum(ledger))
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should fail the parent when the aggregate fails', () => {
    const ledger = mesh()
    ledger.ok(command())
    runTo(ledger, 'jtrain1t1s0', 'peer-1', trained(0))
    runTo(ledger, 'jtrain1t1s1', 'peer-2', trained(1))
    runTo(ledger, 'jtrain1t1a', 'peer-1', codeFailure('exit', 100))
    expect(view(ledger)).toMatchObject({ state: 'failed', training: { round: 1 } })
    expect(view(ledger).reason).toContain('aggregate jtrain1t1a failed')
    expect(ledgerViolations(ledger.state)).toEqual([])
  })
})

describe('a round past its deadline', () => {
  const close: Command = { type: 'training.close-round', parentId: 'jtrain1', round: 1 }

  it('should refuse to close and change nothing when the deadline has not passed', () => {
    const ledger = mesh()
    ledger.ok(command({ minShards: 1 }))
    ledger.advance(29_999)
    expect(ledger.refused(close).name).toBe('INVALID_STATE')
    expect(ledger.refused({ ...close, round: 2 }).name).toBe('INVALID_STATE')
  })

  it('should refuse to close a round when the job has no deadline', () => {
    const ledger = mesh()
    ledger.ok(command({ roundTimeoutS: null }))
    ledger.advance(3_600_000)
    expect(ledger.refused(close).name).toBe('INVALID_STATE')
  })

  it('should cut the straggler unpaid and aggregate the rest when minShards are in', () => {
    const ledger = mesh()
    ledger.ok(command({ minShards: 1 }))
    runTo(ledger, 'jtrain1t1s0', 'peer-1', trained(0))
    const fence = ledger.assign('jtrain1t1s1', 'peer-2')
    ledger.ok({ type: 'job.start', jobId: 'jtrain1t1s1', fence })
    ledger.advance(30_000)
    expect(ledger.ok(close)).toEqual({ closed: true })
    const straggler = ledger.job('jtrain1t1s1')
    expect(straggler).toMatchObject({ state: 'cancelled', priceMc: 0, executorPaidMc: 0 })
    expect(view(ledger).training?.history[0]?.shards[1]).toMatchObject({ cut: true })
    // The close names no job: the straggler it cut and the aggregate it queued are changed.
    expect([...ledger.state.changedJobs].sort()).toEqual(['jtrain1t1a', 'jtrain1t1s1'])
    expect(ledger.job('jtrain1t1a').spec.inputs?.map((file) => file.name)).toEqual([
      '0/weights.npz',
      '0/samples.json',
    ])
    // The straggler's own result, come late, is refused: it cannot be paid after all.
    const late = ledger.finish('jtrain1t1s1', fence, trained(1))
    expect(late.ok).toBe(false)
    expect(ledger.balance('bob')).toBe(GRANT_MC + Math.floor(ONE_MC * 0.8))
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should fail the parent and cut every straggler when fewer than minShards are in', () => {
    const ledger = mesh()
    ledger.ok(command({ minShards: 2 }))
    runTo(ledger, 'jtrain1t1s0', 'peer-1', trained(0))
    ledger.advance(30_000)
    expect(ledger.ok(close)).toEqual({ closed: false })
    const failed = view(ledger)
    expect(failed.state).toBe('failed')
    expect(failed.reason).toContain('by its deadline')
    expect(failed.training?.history[0]).toMatchObject({ state: 'failed' })
    expect(ledger.job('jtrain1t1s1')).toMatchObject({ state: 'cancelled', priceMc: 0 })
    expect(ledger.balance('alice')).toBe(GRANT_MC - ONE_MC)
    expect(ledger.balance('escrow')).toBe(0)
    expect(ledgerViolations(ledger.state)).toEqual([])
  })
})

describe('a training job cancelled or restored', () => {
  it('should cancel its open children and refund the unused when the submitter cancels', () => {
    const ledger = mesh()
    ledger.ok(command())
    runTo(ledger, 'jtrain1t1s0', 'peer-1', trained(0))
    ledger.ok({ type: 'parent.cancel', parentId: 'jtrain1', by: 'alice' })
    expect(view(ledger)).toMatchObject({ state: 'cancelled' })
    expect(ledger.job('jtrain1t1s1').state).toBe('cancelled')
    expect(ledger.balance('alice')).toBe(GRANT_MC - settledSum(ledger))
    expect(ledgerViolations(ledger.state)).toEqual([])
  })

  it('should decode to the same state hash when the state is restored from its encoding', () => {
    const ledger = mesh()
    ledger.ok(command())
    runTo(ledger, 'jtrain1t1s0', 'peer-1', trained(0))
    runTo(ledger, 'jtrain1t1s1', 'peer-2', trained(1))
    const restored = decodeState(encodeState(ledger.state))
    expect(stateHash(restored)).toBe(stateHash(ledger.state))
    expect(restored.parents.get('jtrain1')).toEqual(ledger.state.parents.get('jtrain1'))
  })
})
