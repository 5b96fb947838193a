import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlobStore } from '../../../node/blobs/index.ts'
import { splitIntoBlobs } from '../../../node/shards/index.ts'
import type { ShardBlobStore } from '../../../node/shards/index.ts'

describe('splitIntoBlobs', () => {
  let dir: string
  let store: BlobStore
  let shardStore: ShardBlobStore

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridx-shard-blobs-'))
    store = new BlobStore({ dir, references: () => [] })
    await store.open()
    shardStore = {
      readBytes: async (cid) => readFile(store.path(cid)),
      writeBytes: async (bytes) => store.write(null, bytes.length, Readable.from([bytes])),
    }
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('should store each shard of a CSV as a blob of its own named shard', async () => {
    const bytes = Buffer.from('h\n1\n2\n3\n')
    const dataset = await store.write(null, bytes.length, Readable.from([bytes]))
    const shards = await splitIntoBlobs(shardStore, [{ name: 'd.csv', ...dataset }], 2)
    expect(shards.map((files) => files.map((file) => file.name))).toEqual([['shard'], ['shard']])
    const texts = await Promise.all(
      shards.map(async ([file]) => (await readFile(store.path(file!.cid))).toString()),
    )
    expect(texts).toEqual(['h\n1\n2\n', 'h\n3\n'])
    expect(shards.map(([file]) => file!.size)).toEqual([6, 4])
  })

  it('should refuse an .npz archive with a clear message', async () => {
    const bytes = Buffer.from('not really numpy')
    const dataset = await store.write(null, bytes.length, Readable.from([bytes]))
    await expect(splitIntoBlobs(shardStore, [{ name: 'x.npz', ...dataset }], 2)).rejects.toThrow(
      /.npz archives are not split/,
    )
  })
})
