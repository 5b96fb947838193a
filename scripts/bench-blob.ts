// blob-transfer: one 256 MiB blob fetched over /gridx/blob/2.0.0 between two libp2p peers on
// loopback (TCP, Noise, Yamux, as the daemon's MeshNode runs them), chunk hashes checked and the
// whole checked against its CID, into a real blob store on disk. The baseline, in the same run
// and process, sends the same bytes over a plain TCP socket on loopback into the same kind of
// store (hash, write, fsync): the ratio is what the protocol and its encryption cost. Raw TCP
// (bytes read and dropped) and a bare libp2p stream (no framing, hashing or store) are reported
// beside it, to tell the transport's share from the protocol's. Runs alternate; medians count.
//
// `npm run bench -- blob-transfer --json`, or on its own: `tsx scripts/bench-blob.ts --json`.
import '../node/polyfills.ts'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import pino from 'pino'
import { BlobStore, blobService } from '../node/blobs/index.ts'
import type { BlobService } from '../node/blobs/index.ts'
import { BLOB_CHUNK_BYTES, cidOfSha256 } from '../protocol/index.ts'

export interface BenchBlobOptions {
  readonly megabytes?: number
  readonly runs?: number
}

const MIB = 1024 * 1024

interface Peer {
  readonly store: BlobStore
  readonly blobs: BlobService
  readonly node: Awaited<ReturnType<typeof createLibp2p>>
}

async function startPeer(dir: string, admitted: Set<string>): Promise<Peer> {
  const store = new BlobStore({ dir, references: () => [] })
  await store.open()
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
          peers: () => [...admitted],
          logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }),
        },
        (service) => (blobs = service),
      ),
    },
  })
  return { store, node, blobs: blobs! }
}

/** Writes `megabytes` of random bytes to the holder's store; returns the CID. */
async function seed(store: BlobStore, bytes: number): Promise<string> {
  const hash = createHash('sha256')
  const pieces: Buffer[] = []
  for (let at = 0; at < bytes; at += BLOB_CHUNK_BYTES) {
    const piece = randomBytes(Math.min(BLOB_CHUNK_BYTES, bytes - at))
    hash.update(piece)
    pieces.push(piece)
  }
  const cid = cidOfSha256(hash.digest('hex'))
  async function* source() {
    yield* pieces
  }
  await store.write(cid, bytes, source())
  return cid
}

async function overLibp2p(holder: Peer, fetcher: Peer, cid: string): Promise<number> {
  const began = performance.now()
  await fetcher.blobs.fetch(cid, { preferred: [holder.node.peerId.toString()] })
  const ms = performance.now() - began
  await fetcher.store.remove(cid)
  return ms
}

/** The holder's file over one plain TCP socket; `sink` takes what arrives. */
async function overTcp(
  holder: Peer,
  cid: string,
  sink: (socket: Socket, size: number) => Promise<void>,
): Promise<number> {
  const size = holder.store.size(cid) as number
  const server = createServer((socket) => {
    holder.store.read(cid, 0, BLOB_CHUNK_BYTES).pipe(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const began = performance.now()
    const socket = createConnection((server.address() as AddressInfo).port, '127.0.0.1')
    await sink(socket, size)
    return performance.now() - began
  } finally {
    server.close()
  }
}

/** The same bytes over a bare libp2p stream, neither framed, hashed nor stored: what Noise and
 * Yamux alone cost, to tell the transport's share from the protocol's. */
async function overRawLibp2p(holder: Peer, fetcher: Peer, bytes: number): Promise<number> {
  const done = Promise.withResolvers<void>()
  let received = 0
  await holder.node.handle(RAW_PROTOCOL, (stream) => {
    stream.addEventListener('message', (event) => {
      received += event.data.byteLength
      if (received >= bytes) done.resolve()
    })
  })
  const piece = new Uint8Array(BLOB_CHUNK_BYTES)
  const began = performance.now()
  const stream = await fetcher.node.dialProtocol(holder.node.peerId, RAW_PROTOCOL)
  for (let sent = 0; sent < bytes; sent += piece.byteLength) {
    if (!stream.send(piece)) await once(stream, 'drain')
  }
  await done.promise
  const ms = performance.now() - began
  await stream.close()
  await holder.node.unhandle(RAW_PROTOCOL)
  return ms
}

const RAW_PROTOCOL = '/gridx-bench/raw/1.0.0'

async function drop(socket: Socket): Promise<void> {
  socket.resume()
  await once(socket, 'end')
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

export async function benchBlob(options: BenchBlobOptions = {}): Promise<object> {
  const megabytes = options.megabytes ?? 256
  const runs = options.runs ?? 3
  const bytes = megabytes * MIB
  const root = await mkdtemp(join(tmpdir(), 'gridx-bench-blob-'))
  const admitted = new Set<string>()
  const holder = await startPeer(join(root, 'holder'), admitted)
  const fetcher = await startPeer(join(root, 'fetcher'), admitted)
  const baselineStore = new BlobStore({ dir: join(root, 'baseline'), references: () => [] })
  await baselineStore.open()
  try {
    admitted.add(holder.node.peerId.toString()).add(fetcher.node.peerId.toString())
    await fetcher.node.peerStore.merge(holder.node.peerId, {
      multiaddrs: holder.node.getMultiaddrs(),
    })
    const cid = await seed(holder.store, bytes)
    const times = {
      libp2p: [] as number[],
      tcpIntoStore: [] as number[],
      tcpRaw: [] as number[],
      libp2pRaw: [] as number[],
    }
    for (let run = 0; run < runs; run++) {
      times.libp2p.push(await overLibp2p(holder, fetcher, cid))
      times.tcpIntoStore.push(
        await overTcp(holder, cid, async (socket, size) => {
          await baselineStore.write(cid, size, socket)
          await baselineStore.remove(cid)
        }),
      )
      times.tcpRaw.push(await overTcp(holder, cid, (socket) => drop(socket)))
      times.libp2pRaw.push(await overRawLibp2p(holder, fetcher, bytes))
    }
    const rate = (ms: number) => Math.round((bytes / MIB / (ms / 1000)) * 10) / 10
    const libp2p = rate(median(times.libp2p))
    const tcpIntoStore = rate(median(times.tcpIntoStore))
    return {
      benchmark: 'blob-transfer',
      bytes,
      runs,
      chunkBytes: BLOB_CHUNK_BYTES,
      transport: 'libp2p TCP + Noise + Yamux on 127.0.0.1, one process',
      into: 'BlobStore on disk: per-chunk SHA-256, whole-blob CID check, write, fsync',
      libp2pMiBPerSecond: libp2p,
      baseline: {
        tcpIntoStoreMiBPerSecond: tcpIntoStore,
        tcpRawMiBPerSecond: rate(median(times.tcpRaw)),
        libp2pRawStreamMiBPerSecond: rate(median(times.libp2pRaw)),
      },
      ratio: Math.round((libp2p / tcpIntoStore) * 100) / 100,
      target: 0.5,
      runsMs: times,
      note: 'the machine was shared with other work while this ran',
    }
  } finally {
    await holder.node.stop()
    await fetcher.node.stop()
    await rm(root, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      megabytes: { type: 'string', default: '256' },
      runs: { type: 'string', default: '3' },
    },
  })
  const report = await benchBlob({ megabytes: Number(values.megabytes), runs: Number(values.runs) })
  process.stdout.write(`${JSON.stringify(report, null, values.json ? 0 : 2)}\n`)
  process.exit(0)
}
