// The submitting daemon's side of splitting: it holds the dataset's blobs, so it cuts them
// there and stores each shard as a new blob; the log then carries only the shards' hashes.
import { SHARD_DATASET_BYTES_MAX, SHARD_INPUT_NAME } from '../../protocol/index.ts'
import type { JobFile } from '../../protocol/index.ts'
import { datasetKind, ShardSplitError, splitCsv, splitFiles } from './split-dataset.ts'
import { splitNpy } from './split-npy.ts'

/** What splitting needs of the blob store; owned here, met by BlobStore. */
export interface ShardBlobStore {
  /** The whole blob; it must be held. */
  readBytes(cid: string): Promise<Uint8Array>
  /** Stores bytes as a blob and names it. */
  writeBytes(bytes: Uint8Array): Promise<{ readonly cid: string; readonly size: number }>
}

/** Each shard's inputs: `shard` (a CSV or `.npy` of its rows) or `shard/…` (its files). Throws
 * ShardSplitError for a dataset that is not split as asked. */
export async function splitIntoBlobs(
  store: ShardBlobStore,
  inputs: readonly JobFile[],
  shards: number,
): Promise<JobFile[][]> {
  const kind = datasetKind(inputs)
  if (kind === 'files') return splitFiles(inputs, shards)
  const dataset = inputs[0] as JobFile
  if (dataset.size > SHARD_DATASET_BYTES_MAX) {
    throw new ShardSplitError(
      `${dataset.name} is ${dataset.size} bytes; a dataset split into shards may be ` +
        `${SHARD_DATASET_BYTES_MAX}`,
    )
  }
  const out: JobFile[][] = []
  const whole = await store.readBytes(dataset.cid)
  for (const bytes of kind === 'csv' ? splitCsv(whole, shards) : splitNpy(whole, shards)) {
    const stored = await store.writeBytes(bytes)
    out.push([{ name: SHARD_INPUT_NAME, cid: stored.cid, size: stored.size }])
  }
  return out
}
