// The training methods of the daemon's API over a real one-voter ledger and a real blob store
// (LevelDB and files in a temp dir): the dataset is split here, each shard's rows counted, the
// aggregate script shipped with the daemon goes into the one entry, and a refusal costs none.
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { jobSpecSchema } from '../../../protocol/index.ts'
import type { JobSpecInput, Params } from '../../../protocol/index.ts'
import { apiService, context, refusal, stopApiServices } from '../../fixtures/api-service.ts'

const AGGREGATE_PY = new URL('../../../node/training/aggregate.py', import.meta.url)

afterEach(stopApiServices)

const service = () => apiService('training-api')

function training(
  idempotencyId: string,
  inputs: JobSpecInput['inputs'],
  extra: Partial<Params<'job.submit-training'>> = {},
  spec: Partial<JobSpecInput> = {},
): Params<'job.submit-training'> {
  const parsed = jobSpecSchema.parse({
    runtime: 'python',
    code: 'print(1)',
    inputs,
    cpus: 0.1,
    memoryMb: 16,
    timeoutS: 1,
    ...spec,
  })
  return { idempotencyId, spec: parsed, shards: 2, rounds: 3, ...extra }
}

describe('job.submit-training', () => {
  it('should split the dataset, count each shard’s rows and open round 1', async () => {
    const { api, replica, upload } = await service()
    const dataset = await upload('data.csv', 'a,b\n1,2\n3,4\n5,6\n')
    const before = replica.localRead().appliedIndex
    const submit = api.handlers['job.submit-training']
    const { parent, created } = await submit(training('t-1', [dataset]), context)
    expect(created).toBe(true)
    expect(replica.localRead().appliedIndex).toBe(before + 1)
    expect(parent.training).toMatchObject({
      rounds: 3,
      minShards: 2,
      roundTimeoutS: null,
      aggregate: 'fedavg',
      round: 1,
      model: null,
    })
    expect(parent.training?.history[0]?.shards.map((shard) => shard.state)).toEqual([
      'queued',
      'queued',
    ])
    expect(replica.localRead().parents.get(parent.id)?.training?.samples).toEqual([2, 1])
  })

  it('should run the aggregate script shipped with the daemon when a round closes', async () => {
    const { api, replica, upload } = await service()
    const dataset = await upload('data.csv', 'a\n1\n2\n')
    const params = training('t-1', [dataset], { minShards: 1, roundTimeoutS: 60 })
    const { parent } = await api.handlers['job.submit-training'](params, context)
    const stored = replica.localRead().parents.get(parent.id)
    expect(stored?.reduceCode).toBe(await readFile(AGGREGATE_PY, 'utf8'))
    expect(parent.training).toMatchObject({ minShards: 1, roundTimeoutS: 60 })
  })

  it('should answer with the first parent and store no blob when its id is replayed', async () => {
    const { api, store, upload } = await service()
    const submit = api.handlers['job.submit-training']
    const first = await submit(training('t-1', [await upload('d.csv', 'a\n1\n2\n')]), context)
    const other = await upload('e.csv', 'b\n7\n8\n9\n')
    const bytes = store.bytes
    const again = await submit(training('t-1', [other]), context)
    expect(again).toMatchObject({ created: false, parent: { id: first.parent.id } })
    expect(store.bytes).toBe(bytes)
  })

  it('should refuse an unaffordable run before splitting and append nothing', async () => {
    const { api, replica, store, upload } = await service()
    const dataset = await upload('data.csv', 'a\n1\n2\n')
    const [index, bytes] = [replica.localRead().appliedIndex, store.bytes]
    const params = training('t-1', [dataset], { rounds: 50 }, { cpus: 8, timeoutS: 3600 })
    const error = await refusal(api.handlers['job.submit-training'](params, context))
    expect(error.name).toBe('INSUFFICIENT_FUNDS')
    expect(replica.localRead().appliedIndex).toBe(index)
    expect(store.bytes).toBe(bytes)
  })

  it('should refuse more min-shards than shards and fewer rows than shards', async () => {
    const { api, replica, upload } = await service()
    const submit = api.handlers['job.submit-training']
    const dataset = await upload('data.csv', 'a\n1\n2\n')
    const index = replica.localRead().appliedIndex
    const error = await refusal(submit(training('t-1', [dataset], { minShards: 3 }), context))
    expect(error.name).toBe('INVALID_PARAMS')
    const short = await refusal(submit(training('t-2', [dataset], { shards: 3 }), context))
    expect(short).toMatchObject({ name: 'INVALID_PARAMS', message: /fewer than 3/ })
    expect(replica.localRead().appliedIndex).toBe(index)
  })
})
