// The holder of the blob-transfer benchmark: a libp2p peer (TCP, Noise, Yamux, as the daemon's
// MeshNode runs them) whose blob store holds one blob of random bytes, a plain TCP server that
// sends the same file to whoever connects (the baseline), and a bare libp2p protocol that sends
// as many bytes unframed (the transport alone). bench-blob.ts runs it in a process of its own,
// as every peer is, and also inside its own process for the one-process figure.
//
// As a child (`fork`), it says `{ ready: HolderInfo }` on the IPC channel, answers `'cpu'`
// with `{ cpuMs }` (user and system time so far) and stops on `'stop'` or when the parent goes.
import '../node/polyfills.ts'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import pino from 'pino'
import { BlobStore, blobService } from '../node/blobs/index.ts'
import type { BlobService } from '../node/blobs/index.ts'
import { BLOB_CHUNK_BYTES, cidOfSha256 } from '../protocol/index.ts'

export const RAW_PROTOCOL = '/gridx-bench/raw/1.0.0'

export interface BenchPeer {
  readonly store: BlobStore
  readonly blobs: BlobService
  readonly node: Awaited<ReturnType<typeof createLibp2p>>
}

/** What the fetcher needs to reach the holder. */
export interface HolderInfo {
  readonly peerId: string
  readonly multiaddrs: readonly string[]
  readonly cid: string
  readonly tcpPort: number
}

export interface Holder {
  readonly info: HolderInfo
  stop(): Promise<void>
}

/** A peer with a blob store in `dir` that serves the peers in `admitted`. */
export async function startPeer(dir: string, admitted: ReadonlySet<string>): Promise<BenchPeer> {
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

/** Writes `bytes` random bytes to `store`; returns their CID. */
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

/** The holder: its peer, its blob of `bytes` random bytes, and the two baselines' servers. */
export async function startHolder(
  dir: string,
  bytes: number,
  admitted: ReadonlySet<string>,
): Promise<Holder> {
  const peer = await startPeer(dir, admitted)
  const cid = await seed(peer.store, bytes)
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy())
    peer.store.read(cid, 0, BLOB_CHUNK_BYTES).pipe(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  await peer.node.handle(RAW_PROTOCOL, async (stream) => {
    const piece = new Uint8Array(BLOB_CHUNK_BYTES)
    for (let sent = 0; sent < bytes; sent += piece.byteLength) {
      if (!stream.send(piece)) await once(stream, 'drain')
    }
    await stream.close()
  })
  const info: HolderInfo = {
    peerId: peer.node.peerId.toString(),
    multiaddrs: peer.node.getMultiaddrs().map((address) => address.toString()),
    cid,
    tcpPort: (server.address() as AddressInfo).port,
  }
  return {
    info,
    stop: async () => {
      server.close()
      await peer.node.stop()
    },
  }
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      bytes: { type: 'string' },
      admit: { type: 'string' },
    },
  })
  if (process.send === undefined || values.dir === undefined || values.admit === undefined) {
    throw new Error('run by bench-blob.ts: --dir DIR --bytes N --admit PEER, with IPC')
  }
  const holder = await startHolder(values.dir, Number(values.bytes), new Set([values.admit]))
  const stop = async () => {
    await holder.stop()
    process.exit(0)
  }
  process.on('message', (message) => {
    if (message === 'cpu') process.send?.({ cpuMs: cpuMs() })
    if (message === 'stop') void stop()
  })
  process.on('disconnect', () => void stop())
  process.send({ ready: holder.info })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
