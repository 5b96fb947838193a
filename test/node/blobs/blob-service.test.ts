// The blob protocol between real libp2p nodes on 127.0.0.1, each with a real store in a temp
// dir: a fetch takes a blob whole from whichever peer has it, and a peer that serves bad bytes
// (damaged on the way, or on its own disk) is refused and the blob fetched from another.
import { createHash, randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import pino from 'pino'
import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { BlobNotFoundError, BlobStore, blobService } from '../../../node/blobs/index.ts'
import type { BlobService, BlobServiceInit } from '../../../node/blobs/index.ts'
import {
  BLOB_CHUNK_BYTES,
  BLOB_PROTOCOL,
  BLOB_STREAM_BUFFER_BYTES_MAX,
  cidOfSha256,
} from '../../../protocol/index.ts'

interface Peer {
  readonly id: string
  readonly node: Libp2p
  readonly store: BlobStore
  readonly blobs: BlobService
  readonly admitted: Set<string>
  readonly dir: string
}

const peers: Peer[] = []
afterEach(async () => {
  for (const peer of peers.splice(0)) {
    await peer.node.stop()
    await rm(peer.dir, { recursive: true, force: true })
  }
})

async function startPeer(extra: Partial<BlobServiceInit> = {}): Promise<Peer> {
  const dir = await mkdtemp(join(tmpdir(), 'gridx-blob-peer-'))
  const store = new BlobStore({ dir, references: () => [] })
  await store.open()
  const admitted = new Set<string>()
  let blobs: BlobService | undefined
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      blob: blobService(
        {
          store,
          isAdmitted: (peer) => admitted.has(peer),
          peers: () => [...admitted].sort(),
          logger: pino({ level: 'silent' }),
          ...extra,
        },
        (service) => (blobs = service),
      ),
    },
  })
  const peer = { id: node.peerId.toString(), node, store, blobs: blobs!, admitted, dir }
  peers.push(peer)
  return peer
}

/** Admits every peer at every other and tells each where the others listen. */
async function together(...group: Peer[]): Promise<void> {
  for (const peer of group) {
    for (const other of group) {
      if (other === peer) continue
      peer.admitted.add(other.id)
      await peer.node.peerStore.merge(other.node.peerId, { multiaddrs: other.node.getMultiaddrs() })
    }
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest()

/** A peer whose blob protocol answers every request with `bytes` in chunks, each a digest
 * frame (what `digestOf` gives for the chunk from `start` to `end`) and a data frame: the wire
 * contract written out on its own, apart from the serving code. */
async function startWireHolder(
  bytes: Buffer,
  digestOf: (start: number, end: number) => Uint8Array,
): Promise<Peer> {
  const holder = await startPeer()
  await holder.node.unhandle(BLOB_PROTOCOL)
  await holder.node.handle(BLOB_PROTOCOL, async (stream) => {
    const lp = lpStream(stream)
    await lp.read()
    await lp.write(new TextEncoder().encode(JSON.stringify({ size: bytes.length })))
    for (let start = 0; start < bytes.length; start += BLOB_CHUNK_BYTES) {
      const end = Math.min(bytes.length, start + BLOB_CHUNK_BYTES)
      await lp.writeV([digestOf(start, end), bytes.subarray(start, end)])
    }
    await stream.close()
  })
  return holder
}

async function put(peer: Peer, bytes: Buffer): Promise<string> {
  const cid = cidOfSha256(createHash('sha256').update(bytes).digest('hex'))
  async function* source() {
    yield bytes
  }
  await peer.store.write(cid, bytes.length, source())
  return cid
}

describe('the blob protocol', () => {
  it('should fetch a blob of several chunks byte for byte from the peer that has it', async () => {
    const [holder, other, fetcher] = await Promise.all([startPeer(), startPeer(), startPeer()])
    await together(holder!, other!, fetcher!)
    const bytes = randomBytes(3 * BLOB_CHUNK_BYTES + 12345)
    const cid = await put(holder!, bytes)
    const stored = await fetcher!.blobs.fetch(cid)
    expect(stored).toEqual({ cid, size: bytes.length })
    expect((await readFile(fetcher!.store.path(cid))).equals(bytes)).toBe(true)
    expect(fetcher!.blobs.attempts.at(-1)).toEqual({ peer: holder!.id, error: null })
  })

  it('should fetch a blob larger than a stream may buffer when its reader is slower', async () => {
    const [holder, fetcher] = await Promise.all([startPeer(), startPeer()])
    await together(holder!, fetcher!)
    // Three times what one stream may hold unread: without flow control the reader's buffer
    // overflowed here, since the disk write of each chunk is slower than loopback.
    const bytes = randomBytes(3 * BLOB_STREAM_BUFFER_BYTES_MAX)
    const cid = await put(holder!, bytes)
    await fetcher!.blobs.fetch(cid)
    expect((await readFile(fetcher!.store.path(cid))).equals(bytes)).toBe(true)
  }, 120_000)

  it('should take a blob whose chunks each carry the SHA-256 of the blob up to their end', async () => {
    const bytes = randomBytes(2 * BLOB_CHUNK_BYTES + 99)
    const holder = await startWireHolder(bytes, (_, end) => sha256(bytes.subarray(0, end)))
    const fetcher = await startPeer()
    await together(holder, fetcher)
    const cid = cidOfSha256(sha256(bytes).toString('hex'))
    await fetcher.blobs.fetch(cid)
    expect((await readFile(fetcher.store.path(cid))).equals(bytes)).toBe(true)
  })

  it('should refuse a chunk whose digest covers only the chunk and not the bytes before', async () => {
    const bytes = randomBytes(2 * BLOB_CHUNK_BYTES + 99)
    const holder = await startWireHolder(bytes, (start, end) => sha256(bytes.subarray(start, end)))
    const fetcher = await startPeer()
    await together(holder, fetcher)
    const cid = cidOfSha256(sha256(bytes).toString('hex'))
    await expect(fetcher.blobs.fetch(cid)).rejects.toBeInstanceOf(BlobNotFoundError)
    expect(fetcher.blobs.attempts.at(-1)?.error).toMatch(
      /BlobHashMismatchError: the chunk at byte 1048576/,
    )
    expect(fetcher.store.size(cid)).toBeNull()
  })

  it('should refuse a chunk damaged on the way and fetch the blob from another peer', async () => {
    const damaging = await startPeer({ damageChunk: (index) => index === 1 })
    const [honest, fetcher] = await Promise.all([startPeer(), startPeer()])
    await together(damaging, honest!, fetcher!)
    const bytes = randomBytes(2 * BLOB_CHUNK_BYTES + 1)
    const cid = await put(damaging, bytes)
    await put(honest!, bytes)
    await fetcher!.blobs.fetch(cid, { preferred: [damaging.id] })
    expect((await readFile(fetcher!.store.path(cid))).equals(bytes)).toBe(true)
    const [first, second] = fetcher!.blobs.attempts
    expect(first?.peer).toBe(damaging.id)
    expect(first?.error).toMatch(/BlobHashMismatchError: the chunk at byte 1048576/)
    expect(second).toEqual({ peer: honest!.id, error: null })
  })

  it('should refuse a copy damaged on its holder’s disk and fetch another', async () => {
    const [damaged, honest, fetcher] = await Promise.all([startPeer(), startPeer(), startPeer()])
    await together(damaged!, honest!, fetcher!)
    const bytes = randomBytes(BLOB_CHUNK_BYTES + 7)
    const cid = await put(damaged!, bytes)
    await put(honest!, bytes)
    const file = damaged!.store.path(cid)
    await chmod(file, 0o644)
    const rotten = Buffer.from(bytes)
    rotten[5] = (rotten[5] ?? 0) ^ 1
    await writeFile(file, rotten)
    await fetcher!.blobs.fetch(cid, { preferred: [damaged!.id, honest!.id] })
    expect((await readFile(fetcher!.store.path(cid))).equals(bytes)).toBe(true)
    expect(fetcher!.blobs.attempts[0]?.error).toMatch(/hash/i)
    expect(damaged!.store.size(cid)).toBeNull()
  })

  it('should say what each peer answered when no peer has the blob', async () => {
    const [a, fetcher] = await Promise.all([startPeer(), startPeer()])
    await together(a!, fetcher!)
    const cid = cidOfSha256(createHash('sha256').update('nowhere').digest('hex'))
    const error = await fetcher!.blobs.fetch(cid).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BlobNotFoundError)
    expect((error as Error).message).toContain(`${a!.id}: BlobNotFoundError`)
  })

  it('should serve nothing to a peer that is not admitted', async () => {
    const [holder, stranger] = await Promise.all([startPeer(), startPeer()])
    stranger!.admitted.add(holder!.id)
    await stranger!.node.peerStore.merge(holder!.node.peerId, {
      multiaddrs: holder!.node.getMultiaddrs(),
    })
    const cid = await put(holder!, randomBytes(100))
    await expect(stranger!.blobs.fetch(cid)).rejects.toBeInstanceOf(BlobNotFoundError)
    expect(stranger!.store.size(cid)).toBeNull()
  })
})
