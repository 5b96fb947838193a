// Each shard's rows, which weight the shards' metrics in a training job's view: the state
// may not read samples.json (a file a job wrote), so the rows are counted here, from the
// submitter's own dataset, as the split cuts them.
import type { JobFile } from '../../protocol/index.ts'
import { csvRows, datasetKind, npyRows } from '../shards/index.ts'
import type { ShardBlobStore } from '../shards/index.ts'

/** The rows each of `shards` shards gets: the split's even cut, the first ones one more. */
export async function shardRows(
  store: Pick<ShardBlobStore, 'readBytes'>,
  inputs: readonly JobFile[],
  shards: number,
): Promise<number[]> {
  const kind = datasetKind(inputs)
  let rows = inputs.length
  if (kind !== 'files') {
    const bytes = await store.readBytes((inputs[0] as JobFile).cid)
    rows = kind === 'csv' ? csvRows(bytes) : npyRows(bytes)
  }
  return Array.from(
    { length: shards },
    (_, shard) => Math.floor(rows / shards) + (shard < rows % shards ? 1 : 0),
  )
}
