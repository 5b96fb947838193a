// The sharded-job methods of the daemon's API over a real one-voter ledger and a real blob
// store (LevelDB and files in a temp dir): the dataset is split on this peer, one entry goes
// to the log, and a replay or a refusal stores no blob.
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { jobSpecSchema } from '../../../protocol/index.ts'
import type { JobSpecInput, Params } from '../../../protocol/index.ts'
import { apiService, context, refusal, stopApiServices } from '../../fixtures/api-service.ts'

afterEach(stopApiServices)

const service = () => apiService('shard-api')

function sharded(
  idempotencyId: string,
  inputs: JobSpecInput['inputs'],
  shards: number,
  spec: Partial<JobSpecInput> = {},
): Params<'job.submit-sharded'> {
  const parsed = jobSpecSchema.parse({ runtime: 'python', code: 'print(1)', inputs, ...spec })
  return { idempotencyId, spec: parsed, shards, reduceCode: 'print(2)' }
}

describe('job.submit-sharded', () => {
  it('should split the CSV into shard blobs here and append one entry', async () => {
    const { api, replica, store, upload } = await service()
    const dataset = await upload('data.csv', 'a\n1\n2\n3\n')
    const before = replica.localRead().appliedIndex
    const submit = api.handlers['job.submit-sharded']
    const { parent, created } = await submit(sharded('s-1', [dataset], 3), context)
    expect(created).toBe(true)
    expect(replica.localRead().appliedIndex).toBe(before + 1)
    expect(parent).toMatchObject({ state: 'running', hasReduce: true, shardsDone: 0 })
    const texts = await Promise.all(
      parent.shards.map(async (shard) => {
        const [input] = shard.inputs
        expect(input?.name).toBe('shard')
        return (await readFile(store.path(input!.cid))).toString()
      }),
    )
    expect(texts).toEqual(['a\n1\n', 'a\n2\n', 'a\n3\n'])
    const child = replica.localRead().jobs.get(parent.shards[2]!.jobs[0]!)
    expect(child?.spec.inputs).toEqual(parent.shards[2]!.inputs)
  })

  it('should answer with the first parent and store no blob when its id is replayed', async () => {
    const { api, store, upload } = await service()
    const submit = api.handlers['job.submit-sharded']
    const first = await submit(sharded('s-1', [await upload('d.csv', 'a\n1\n2\n')], 2), context)
    const other = await upload('e.csv', 'b\n7\n8\n9\n')
    const bytes = store.bytes
    const again = await submit(sharded('s-1', [other], 2), context)
    expect(again).toMatchObject({ created: false, parent: { id: first.parent.id } })
    expect(store.bytes).toBe(bytes)
  })

  it('should refuse an unaffordable run before splitting and append nothing', async () => {
    const { api, replica, store, upload } = await service()
    const dataset = await upload('data.csv', 'a\n1\n2\n')
    const [index, bytes] = [replica.localRead().appliedIndex, store.bytes]
    const params = sharded('s-1', [dataset], 2, { cpus: 8, timeoutS: 3600 })
    const error = await refusal(api.handlers['job.submit-sharded'](params, context))
    expect(error.name).toBe('INSUFFICIENT_FUNDS')
    expect(replica.localRead().appliedIndex).toBe(index)
    expect(store.bytes).toBe(bytes)
  })

  it('should refuse an .npz dataset and a dataset not uploaded here with what to do', async () => {
    const { api, upload } = await service()
    const submit = api.handlers['job.submit-sharded']
    const npy = await upload('x.npz', 'not really')
    const error = await refusal(submit(sharded('s-1', [npy], 2), context))
    expect(error).toMatchObject({ name: 'INVALID_PARAMS', message: /.npz archives are not split/ })
    const missing = { ...npy, name: 'y.csv', size: npy.size + 1 }
    const absent = await refusal(submit(sharded('s-2', [missing], 2), context))
    expect(absent.name).toBe('INVALID_PARAMS')
  })

  it('should cancel every child when the parent is cancelled', async () => {
    const { api, replica, upload } = await service()
    const dataset = await upload('data.csv', 'a\n1\n2\n')
    const { parent } = await api.handlers['job.submit-sharded'](
      sharded('s-1', [dataset], 2),
      context,
    )
    const cancel = api.handlers['job.cancel-parent']
    const view = await cancel({ id: parent.id, idempotencyId: 'c-1' }, context)
    expect(view.state).toBe('cancelled')
    for (const shard of view.shards) expect(shard.state).toBe('cancelled')
    expect(replica.localRead().queue).toEqual([])
    const listed = await api.handlers['job.parents']({ limit: 10 }, context)
    expect(listed.parents.map((one) => one.id)).toEqual([parent.id])
  })
})
