import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { cidOfSha256 } from '../../../../protocol/index.ts'
import { cidOfBlob, uploadInputs } from '../../../../pwa/src/net/input-upload.ts'
import type { BlobClient, UploadProgress } from '../../../../pwa/src/net/input-upload.ts'

/** A blob store in memory, as the daemon's routes answer: HEAD by CID, PUT of the bytes. */
function memoryBlobs() {
  const stored = new Map<string, Uint8Array>()
  const puts: string[] = []
  const client: BlobClient = {
    hasBlob: async (cid) => stored.has(cid),
    putBlob: async (cid, body, onProgress) => {
      const bytes = new Uint8Array(await body.arrayBuffer())
      if ((await cidOfBlob(body)) !== cid) throw new Error('the bytes do not hash to the CID')
      onProgress(bytes.byteLength)
      puts.push(cid)
      stored.set(cid, bytes)
    },
  }
  return { client, stored, puts }
}

const picked = (name: string, text: string) => {
  const file = new Blob([text])
  return { name, size: file.size, file, cid: null }
}

describe('input upload', () => {
  it('should name a blob by the CID of the SHA-256 of its bytes', async () => {
    const bytes = new Uint8Array(70_000).map((_, n) => (n * 7) % 256)
    const expected = cidOfSha256(createHash('sha256').update(bytes).digest('hex'))
    expect(await cidOfBlob(new Blob([bytes]))).toBe(expected)
  })

  it('should send each file once and nothing when the daemon already holds them', async () => {
    const blobs = memoryBlobs()
    const inputs = [picked('a.csv', 'x,y\n1,2\n'), picked('dir/b.txt', 'hello')]
    const first = await uploadInputs(blobs.client, inputs, () => {})
    expect(first.map((file) => file.name)).toEqual(['a.csv', 'dir/b.txt'])
    expect(blobs.puts).toHaveLength(2)
    const stages: UploadProgress['stage'][] = []
    const again = await uploadInputs(blobs.client, inputs, (_, progress) => {
      stages.push(progress.stage)
    })
    expect(again).toEqual(first)
    expect(blobs.puts).toHaveLength(2)
    expect(stages.filter((stage) => stage === 'present')).toHaveLength(2)
  })

  it('should fail with the file’s name when a kept input is no longer stored', async () => {
    const blobs = memoryBlobs()
    const gone = { name: 'old.csv', size: 3, file: null, cid: await cidOfBlob(new Blob(['abc'])) }
    const seen: UploadProgress[] = []
    await expect(
      uploadInputs(blobs.client, [gone], (_, progress) => seen.push(progress)),
    ).rejects.toThrow(/old\.csv was not uploaded: the daemon no longer holds it/)
    expect(seen.at(-1)?.stage).toBe('failed')
  })
})
