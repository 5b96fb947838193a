// The CLI's upload on a real gateway with a real blob store: it has no total timeout of its
// own, and a long upload reports how far it has come.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cidOfSha256 } from '../../../protocol/index.ts'
import { BlobStore } from '../../../node/blobs/index.ts'
import { uploadInputs } from '../../../node/cli/blob-transfer.ts'
import type { BlobBackend } from '../../../node/gateway/index.ts'
import { startGateway, TOKEN } from '../gateway/fixtures/start-gateway.ts'
import type { TestGateway } from '../gateway/fixtures/start-gateway.ts'

describe('the CLI upload of inputs', () => {
  let dir: string
  let store: BlobStore
  let api: TestGateway

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridx-cli-upload-'))
    store = new BlobStore({ dir: join(dir, 'blobs'), references: () => [] })
    await store.open()
    const blobs: BlobBackend = {
      has: async (cid) => store.size(cid),
      write: (cid, size, source) => store.write(cid, size, source),
      open: async (cid) => ({ size: store.size(cid) ?? 0, stream: store.read(cid) }),
    }
    api = await startGateway({ blobs, limits: { requestTimeoutMs: 200 } })
  })
  afterEach(async () => {
    await api.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('should report rising progress up to the whole file when it uploads one', async () => {
    const bytes = randomBytes(4 * 1024 * 1024)
    const path = join(dir, 'big.bin')
    await writeFile(path, bytes)
    const reports: string[] = []
    const target = { url: api.address.url, token: TOKEN }
    const file = { name: 'big.bin', path, size: bytes.length }
    const report = await uploadInputs(target, [file], (text) => reports.push(text))
    expect(report.uploaded).toBe(1)
    const cid = cidOfSha256(createHash('sha256').update(bytes).digest('hex'))
    expect(store.size(cid)).toBe(bytes.length)
    expect(reports.length).toBeGreaterThan(1)
    const percents = reports.map((text) => Number(/\((\d+) %\)/.exec(text)?.[1]))
    expect(percents).toEqual([...percents].sort((a, b) => a - b))
    expect(reports.at(-1)).toBe('uploading big.bin: 4.0 of 4.0 MiB (100 %)')
  })

  it('should report nothing when the daemon holds the file already', async () => {
    const path = join(dir, 'small.txt')
    await writeFile(path, 'held')
    const target = { url: api.address.url, token: TOKEN }
    const file = { name: 'small.txt', path, size: 4 }
    await uploadInputs(target, [file])
    const reports: string[] = []
    const report = await uploadInputs(target, [file], (text) => reports.push(text))
    expect(report.alreadyThere).toBe(1)
    expect(reports).toEqual([])
  })
})
