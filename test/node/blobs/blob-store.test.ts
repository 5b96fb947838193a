import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BlobHashMismatchError,
  BlobSizeError,
  BlobStore,
  BlobStoreFullError,
} from '../../../node/blobs/index.ts'
import { cidOfSha256 } from '../../../protocol/index.ts'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

const cidOf = (bytes: Uint8Array) => cidOfSha256(createHash('sha256').update(bytes).digest('hex'))

async function* chunks(...parts: Uint8Array[]) {
  for (const part of parts) yield part
}

interface Setup {
  readonly bytesMax?: number
  readonly references?: string[]
  readonly clock?: { now: number }
}

async function openStore(setup: Setup = {}, dir?: string) {
  const at = dir ?? (await mkdtemp(join(tmpdir(), 'gridx-blobs-')))
  if (dir === undefined) dirs.push(at)
  const references = setup.references ?? []
  const store = new BlobStore({
    dir: at,
    references: () => references,
    ...(setup.bytesMax === undefined ? {} : { bytesMax: setup.bytesMax }),
    ...(setup.clock === undefined ? {} : { now: () => setup.clock!.now, graceMs: 1000 }),
  })
  await store.open()
  return { store, dir: at }
}

describe('BlobStore', () => {
  it('should keep a blob under its CID when its bytes hash to it, also reopened', async () => {
    const { store, dir } = await openStore()
    const bytes = new TextEncoder().encode('hello, mesh')
    const stored = await store.write(
      cidOf(bytes),
      bytes.length,
      chunks(bytes.subarray(0, 4), bytes.subarray(4)),
    )
    expect(stored).toEqual({ cid: cidOf(bytes), size: bytes.length })
    expect(await readFile(store.path(stored.cid))).toEqual(Buffer.from(bytes))
    expect((await stat(store.path(stored.cid))).mode & 0o777).toBe(0o444)
    const { store: reopened } = await openStore({}, dir)
    expect(reopened.size(stored.cid)).toBe(bytes.length)
    expect(reopened.bytes).toBe(bytes.length)
  })

  it('should refuse and store nothing when the bytes hash to another CID', async () => {
    const { store } = await openStore()
    const claimed = cidOf(new TextEncoder().encode('the real thing'))
    const sent = new TextEncoder().encode('something else')
    await expect(store.write(claimed, sent.length, chunks(sent))).rejects.toBeInstanceOf(
      BlobHashMismatchError,
    )
    expect(store.size(claimed)).toBeNull()
    expect(store.bytes).toBe(0)
  })

  it("should hand each piece's prefix digest to onHashed before it writes the piece", async () => {
    const { store } = await openStore()
    const bytes = randomBytes(3000)
    const seen: [number, string][] = []
    const pieces = [bytes.subarray(0, 1000), bytes.subarray(1000, 2500), bytes.subarray(2500)]
    await store.write(cidOf(bytes), bytes.length, chunks(...pieces), {
      onHashed: (hashed, sha256) => seen.push([hashed, Buffer.from(sha256()).toString('hex')]),
    })
    const prefix = (end: number) => createHash('sha256').update(bytes.subarray(0, end))
    expect(seen).toEqual([1000, 2500, 3000].map((end) => [end, prefix(end).digest('hex')]))
  })

  it('should store nothing when onHashed refuses a piece', async () => {
    const { store, dir } = await openStore()
    const bytes = randomBytes(2000)
    const refusal = new BlobHashMismatchError('the second piece is not what was promised')
    const write = store.write(
      cidOf(bytes),
      2000,
      chunks(bytes.subarray(0, 1000), bytes.subarray(1000)),
      {
        onHashed: (hashed) => {
          if (hashed > 1000) throw refusal
        },
      },
    )
    await expect(write).rejects.toBe(refusal)
    expect(store.size(cidOf(bytes))).toBeNull()
    expect(store.bytes).toBe(0)
    expect(await readdir(join(dir, 'tmp'))).toEqual([])
  })

  it('should refuse when more or fewer bytes arrive than announced', async () => {
    const { store } = await openStore()
    const bytes = new Uint8Array(10)
    await expect(store.write(null, 9, chunks(bytes))).rejects.toBeInstanceOf(BlobSizeError)
    await expect(store.write(null, 11, chunks(bytes))).rejects.toBeInstanceOf(BlobSizeError)
    expect(store.bytes).toBe(0)
  })

  it('should refuse without an unhandled rejection when the source fails mid-write', async () => {
    const unhandled: unknown[] = []
    const record = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', record)
    try {
      const { store, dir } = await openStore()
      // The source fails (as a fetch refusing a damaged chunk does) while the disk still
      // writes the chunk before, so the file stream is destroyed with a write in flight. The
      // network is slower than opening the file: the first chunk comes once the stream is open.
      async function* failing() {
        await new Promise((resolve) => setTimeout(resolve, 20))
        yield randomBytes(1024 * 1024)
        throw new BlobHashMismatchError('the second chunk is damaged')
      }
      await expect(store.write(null, 2 * 1024 * 1024, failing())).rejects.toThrow(
        BlobHashMismatchError,
      )
      expect(await readdir(join(dir, 'tmp'))).toEqual([])
      // The destroyed stream reports its in-flight write a little later.
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', record)
    }
  })

  it('should fill to its cap and refuse one byte past it when every blob is needed', async () => {
    const first = new Uint8Array(60).fill(1)
    const second = new Uint8Array(40).fill(2)
    const { store } = await openStore({ bytesMax: 100, references: [cidOf(first), cidOf(second)] })
    await store.write(null, 60, chunks(first))
    await store.write(null, 40, chunks(second))
    expect(store.bytes).toBe(100)
    const error = await store.write(null, 1, chunks(new Uint8Array(1))).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BlobStoreFullError)
    expect((error as Error).message).toMatch(/holds 100 of 100 bytes/)
  })

  it('should collect unreferenced blobs past their grace when a write needs room', async () => {
    const clock = { now: Date.now() }
    const kept = new Uint8Array(50).fill(1)
    const { store } = await openStore({ bytesMax: 100, references: [cidOf(kept)], clock })
    await store.write(null, 50, chunks(kept))
    const old = await store.write(null, 50, chunks(new Uint8Array(50).fill(2)))
    // Within its grace an unreferenced upload is kept: the job naming it may be on its way.
    await expect(store.write(null, 10, chunks(new Uint8Array(10)))).rejects.toBeInstanceOf(
      BlobStoreFullError,
    )
    clock.now += 60_000
    await store.write(null, 10, chunks(new Uint8Array(10)))
    expect(store.size(old.cid)).toBeNull()
    expect(store.size(cidOf(kept))).toBe(50)
    expect(store.bytes).toBe(60)
  })

  it('should keep an unreferenced blob when it was touched within its grace', async () => {
    const clock = { now: Date.now() }
    const { store } = await openStore({ clock })
    const blob = await store.write(null, 3, chunks(new Uint8Array(3)))
    clock.now += 60_000
    await store.touch(blob.cid)
    expect(await store.collect()).toBe(0)
    clock.now += 60_000
    expect(await store.collect()).toBe(3)
  })

  it('should forget half-written files when it is reopened after a crash', async () => {
    const { store, dir } = await openStore()
    await writeFile(join(dir, 'tmp', 'left-behind'), 'partial')
    const { store: reopened } = await openStore({}, dir)
    expect(reopened.bytes).toBe(store.bytes)
    await expect(stat(join(dir, 'tmp', 'left-behind'))).rejects.toThrow()
  })
})
